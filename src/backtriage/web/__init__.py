"""The clinicians' web page (intake form, live assessment, printable report, patient handout):
a FastAPI router that the service mounts with ``app.include_router(router)``."""

from backtriage.web.routes import router

__all__ = ["router"]
