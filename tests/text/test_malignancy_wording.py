"""Wordings of a cancer history and of weight loss (red-team misses), with their guards."""

from __future__ import annotations

import pytest

from backtriage.text import TextReader

CANCER = "history_of_cancer"
WEIGHT = "unexplained_weight_loss"


@pytest.mark.parametrize(
    "note",
    [
        # abbreviations with one meaning in a clinical note
        "hx NSCLC",
        "PMH: SCLC",
        "PMH: HCC",
        "PMH: CLL on watch and wait",
        "PMH: AML in remission",
        "PMH: Hodgkin's 2010, NHL",
        "PMH: DLBCL treated with R-CHOP 2022",
        "PMH: TCC bladder",
        "PMH: GBM",
        "RCC",
        "CML on imatinib",
        "adenoCa prostate",
        "GIST resected 2019",
        "PMH: MM",
        "known MM",
        # cancers named in full
        "PMH: plasmacytoma",
        "glioblastoma",
        "cholangiocarcinoma",
        "osteosarcoma",
        "seminoma 2010",
        "Waldenstrom's",
        "Hx of NSCLC stage III treated with chemoradiotherapy 2021",
        # treatment
        "had a mastectomy 2 years ago, back pain at night",
        "post-mastectomy",
        "had a lumpectomy and radiotherapy",
        "had radiation for prostate",
        "on Herceptin",
        "takes Arimidex",
        "on Zoladex",
        "on enzalutamide",
        "74M, on abiraterone, new back pain",
        "under the oncologists",
        # forms and red-flag lists
        "Hx ca: yes (breast 2015)",
        "Ca: breast 2015",
        "RF: fever N, wt loss N, hx ca Y",
        "RED FLAGS: Fever - no / Wt loss - no / Hx Ca - yes",
        # a cancer with no recurrence is still a cancer history
        "no evidence of recurrence of breast ca",
        "no recurrence of prostate cancer",
        "no signs of the cancer coming back",
        # a patient's words, a tablet chemotherapy, a declined treatment
        "i had the big C in my breast 6 yrs ago",
        "I stopped my chemo tablets last month",
        "finished my chemo in 2019",
        "she herself had a renal cell ca removed in 2016",
        "Chemo declined for CLL, on watch and wait",
        "declined chemotherapy",
        "PMH: HL in remission",
        "Hodgkin lymphoma treated with ABVD",
        "treated with R-CHOP",
        # "never had cancer until ..." tells of a cancer
        "Never had cancer until last year - bowel cancer, had surgery",
        "never had cancer until 2019",
        # a cancer being investigated again is a cancer history
        "they're testing me for cancer recurrence",
        "scared it's the cancer coming back",
        "scared it's cancer again",
    ],
)
def test_cancer_history_present(reader: TextReader, note: str) -> None:
    assert reader.read(note=note).findings.get(CANCER) == "present"


@pytest.mark.parametrize(
    "note",
    [
        "No hx ca.",
        "Hx ca: no",
        "red flags - fever: no, wt loss: no, ca: no",
        "65 y/o F, back pain x 6 wks, no hx ca, no wt loss, no night pain, no fever",
        "44 yo M, LBP. No fever/wt loss/night pain. No hx ca. No IVDU.",
        # unchanged denials
        "no history of cancer, back pain after lifting",
        "never had cancer",
    ],
)
def test_cancer_history_absent(reader: TextReader, note: str) -> None:
    assert reader.read(note=note).findings.get(CANCER) == "absent"


@pytest.mark.parametrize(
    "note",
    [
        # someone else's cancer, or cancer as a workplace
        "wife has cancer, he is her carer, back pain from lifting her",
        "husband has lung cancer",
        "lives with wife who has cancer",
        "my wife has breast cancer and I hurt my back lifting her",
        "works as an oncology nurse, hurt back lifting patient",
        "works on the cancer ward",
        "my mum had breast cancer and I'm worried my back pain is cancer",
        # guards: family, worry, calcium, millimetres, the English "gist"
        "mum had breast cancer",
        "worried it might be cancer",
        "Ca 2.4",
        "Adj Ca 2.45, ALP normal",
        "Na 140, Ca: 2.4",
        "RCC 4.5, Hb 130",
        "disc bulge 5 mm",
        "MM",
        "the gist of it is that his back hurts",
        "PMH: anti-GBM disease",
        "renal AML on ultrasound",
        "radiation to the buttock",
        # hearing loss and hyperlipidaemia are also "HL"
        "PMH: HL",
        "L4/5 protrusion 4 mm, relapse of sciatica",
        # a scare, an investigation, a fear
        "cancer scare last year but all clear, it was just a cyst",
        "they're testing me for cancer, waiting on scan results",
        "being investigated for cancer",
        "I'm scared it's a tumour",
        "worried it's cancer",
        # a chemotherapy not taken
        "not on my chemo tablets",
    ],
)
def test_cancer_history_not_present(reader: TextReader, note: str) -> None:
    assert reader.read(note=note).findings.get(CANCER) != "present"


def test_worry_left_to_context_stays_uncertain(reader: TextReader) -> None:
    # the worry phrases above must not swallow what ConText already reads as uncertain
    res = reader.read(note="worried it might be cancer")
    assert res.findings.get(CANCER) is None
    assert CANCER in {u.finding for u in res.uncertain}


@pytest.mark.parametrize(
    "note",
    [
        "his wife has cancer; he had a mastectomy for male breast cancer",
        "works as an oncology nurse, PMH breast ca 2015",
        "seen by the oncology nurse specialist",
    ],
)
def test_own_cancer_beside_someone_elses(reader: TextReader, note: str) -> None:
    assert reader.read(note=note).findings.get(CANCER) == "present"


@pytest.mark.parametrize(
    "note",
    [
        "my clothes are hanging off me, lost about a stone in 2 months, back pain",
        "lost 10lbs over the last month not trying to",
        "lost 2st",
        "down 10 lbs",
        "weight has dropped from 80 to 72kg",
        "LOA/LOW",
        "+LOW +LOA",
        "loss of wt",
        "wt ↓ 8kg",
        "weight dropping off",
        "cachexic",
        # a weight-loss drug not taken explains nothing
        "Not on Ozempic and have lost 10kg",
    ],
)
def test_weight_loss_present(reader: TextReader, note: str) -> None:
    assert reader.read(note=note).findings.get(WEIGHT) == "present"


@pytest.mark.parametrize(
    "note",
    ["no LOW/LOA", "denies weight loss", "no loss of wt", "wt stable"],
)
def test_weight_loss_absent(reader: TextReader, note: str) -> None:
    assert reader.read(note=note).findings.get(WEIGHT) == "absent"


@pytest.mark.parametrize(
    "note",
    [
        "weight loss intentional (diet)",
        "lost 10kg on slimming world",
        "weight loss - on Mounjaro",
        # guards: "low" is an English word; a lost day is not lost weight
        "LOW",
        "low back pain, mood low",
        "lost 3 days of work in the last month",
        "lost 2 nights sleep",
        "a 20kg weight dropped from 2 metres onto his back",
        # intended, or put down to a weight-loss drug
        "losing weight on purpose with slimming world",
        "losing weight through diet",
        "I'm on Ozempic and have lost 10kg",
        "started Mounjaro and lost 2 stone",
        "lost 8kg on Wegovy",
    ],
)
def test_weight_loss_not_present(reader: TextReader, note: str) -> None:
    assert reader.read(note=note).findings.get(WEIGHT) != "present"


@pytest.mark.parametrize(
    "note",
    [
        "RCC 2015",
        "RCC 2 years ago",
        "breast ca - no recurrence",
        "Hx ca: yes",
        "PMH: non-Hodgkin's lymphoma",
        "non-Hodgkins",
    ],
)
def test_cancer_history_present_guards(reader: TextReader, note: str) -> None:
    assert reader.read(note=note).findings.get(CANCER) == "present"
