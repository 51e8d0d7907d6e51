from backtriage.cli import main

main()
