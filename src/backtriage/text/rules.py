"""The rule files of the text reader: their schema, and loading them with every problem at once.

The files live in ``backtriage/text/data`` and are read through ``importlib.resources``:

- ``findings.yaml``: the finding ids the reader may set, by group (the one list);
- ``classes.yaml``: named word classes for the phrase notation (see :mod:`.phrases`);
- ``targets/*.yaml``: concepts (what a phrase means: which findings, present or absent);
- ``context.yaml``: ConText modifiers (negation, uncertainty, family, hypothetical, history);
- ``sections.yaml``: section headers and what a section does to the findings under it;
- ``forms.yaml``: the checkbox marks and answer words of a form pasted as text.

A broken file raises :class:`backtriage.errors.KnowledgeError` listing every problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backtriage.errors import KnowledgeError
from backtriage.text.phrases import ClassDef, Pattern, PhraseSyntaxError, compile_phrase
from backtriage.yaml_data import load_yaml

M = TypeVar("M", bound=BaseModel)

Category = Literal[
    "NEGATED_EXISTENCE",
    "POSSIBLE_EXISTENCE",
    "HYPOTHETICAL",
    "FAMILY",
    "HISTORICAL",
    "TERMINATE",
    "AFFIRMATION",
]
Direction = Literal["FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"]
SectionPolicy = Literal["none", "family", "hypothetical", "historical", "negated_list"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FindingEntry(_Strict):
    id: str
    history: bool = False


class FindingsFile(_Strict):
    schema_version: Literal[1]
    groups: dict[str, list[FindingEntry]]


class ClassEntry(_Strict):
    phrases: list[str] | None = None
    regex: str | None = None
    note: str | None = None


class ClassesFile(_Strict):
    schema_version: Literal[1]
    classes: dict[str, ClassEntry]


class Concept(_Strict):
    """What a matched phrase means."""

    id: str
    # Findings the phrase speaks of; defaults to [id].
    findings: list[str] | None = None
    # "absent" for phrases that state a normal finding ("afebrile", "power 5/5 throughout").
    asserts: Literal["present", "absent"] = "present"
    # A vague phrase ("bladder problems") cannot say which of its findings is present: a
    # positive mention is listed as uncertain; an explicit denial sets them all absent.
    vague: bool = False
    # A lay description that may or may not mean its findings ("my legs feel like jelly": weak,
    # tired or unsteady): read as possible, like "?weakness", whether stated or denied.
    possible: bool = False
    # "adjacent": only a denial right next to the phrase negates it.  For exam phrases that
    # carry their own abnormal qualifier ("EHL 4/5", "reduced ankle jerk", "SLR positive"),
    # where a list denial earlier in the sentence ("no saddle anaesthesia, EHL 4/5") must not
    # reach them.  "scope" (default): ConText's scope decides.
    negation: Literal["scope", "adjacent"] = "scope"
    # Findings also present when this one is ("bilateral sciatica" is leg pain below the knee),
    # but not denied with it ("no bilateral sciatica" leaves one-sided sciatica open).
    implies: list[str] = Field(default_factory=list)
    # A question or statement of normal function whose "no" is the finding ("Can you feel the
    # toilet paper when you wipe?"): with ``asserts: absent``, answered yes (or stated) it denies
    # its findings like any normal; answered no ("No [x]", "(Y/N): N", "? No") it states them
    # (with ``vague``, it cannot say which: each is asked).
    no_means_present: bool = False
    # With ``no_means_present``, whether any denial near the normal leaves it unknown ("she
    # doesn't really have control of her bladder": a question's verb, denied).  False for an
    # examination's normal that a list's denial runs on to ("No retention, perianal sensation
    # normal"): there only a negation right next to it ("perianal sensation not intact") does.
    any_denial_qualifies: bool = True
    # "ignore" concepts exist only to out-match a shorter phrase ("short course of steroids").
    ignore: bool = False
    phrases: list[str] = Field(min_length=1)
    note: str | None = None

    @property
    def finding_ids(self) -> list[str]:
        if self.ignore:
            return []
        return self.findings if self.findings is not None else [self.id]

    @property
    def all_findings(self) -> list[str]:
        return [*self.finding_ids, *self.implies]


class TargetsFile(_Strict):
    schema_version: Literal[1]
    # Each concept is validated on its own, so that one bad concept does not hide the
    # problems of the others.
    concepts: list[dict[str, object]]


class Modifier(_Strict):
    """A ConText modifier rule: trigger phrases, their category and direction."""

    category: Category
    direction: Direction
    phrases: list[str] = Field(min_length=1)
    max_scope: int | None = Field(default=None, gt=0)
    # Concept ids or finding-group names this modifier may modify (default: all).
    allowed: list[str] | None = None
    terminated_by: list[Category] | None = None
    note: str | None = None


class ContextFile(_Strict):
    schema_version: Literal[1]
    modifiers: list[Modifier]


class Section(_Strict):
    id: str
    policy: SectionPolicy
    headers: list[str] = Field(min_length=1)
    note: str | None = None


class SectionsFile(_Strict):
    schema_version: Literal[1]
    sections: list[Section]


class FormBoxes(_Strict):
    """Checkbox marks as written ("[x]", "( )", "☐"), by what they say."""

    ticked: list[str] = Field(min_length=1)
    unticked: list[str] = Field(min_length=1)
    unclear: list[str] = Field(default_factory=list)


class FormRadios(_Strict):
    """Radio buttons as pasted from a web page ("◉", "○"), read only as answer options."""

    ticked: list[str] = Field(default_factory=list)
    unticked: list[str] = Field(default_factory=list)


class FormAnswers(_Strict):
    """The option words of a form's question ("Y [ ] N [x]")."""

    yes_words: list[str] = Field(min_length=1)
    no_words: list[str] = Field(min_length=1)
    unsure_words: list[str] = Field(default_factory=list)


class FormsFile(_Strict):
    schema_version: Literal[1]
    boxes: FormBoxes
    radios: FormRadios = Field(default_factory=FormRadios)
    blank: str = Field(min_length=1)
    answers: FormAnswers


@dataclass(frozen=True)
class CompiledRule:
    """One token pattern, with the rule and the readable phrase it came from."""

    key: str  # concept id (targets) or index into Rules.modifiers (modifiers)
    literal: str
    pattern: Pattern


@dataclass
class Rules:
    """Everything loaded from the rule files, checked and compiled."""

    groups: dict[str, list[str]] = field(default_factory=dict)
    history_ids: set[str] = field(default_factory=set)
    classes: dict[str, ClassDef] = field(default_factory=dict)
    concepts: dict[str, Concept] = field(default_factory=dict)
    targets: list[CompiledRule] = field(default_factory=list)
    modifiers: list[Modifier] = field(default_factory=list)
    modifier_patterns: list[CompiledRule] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    forms: FormsFile | None = None

    @property
    def finding_ids(self) -> list[str]:
        return [fid for ids in self.groups.values() for fid in ids]

    def group_of(self, finding_id: str) -> str:
        for group, ids in self.groups.items():
            if finding_id in ids:
                return group
        raise KeyError(finding_id)


def _data_root() -> Traversable:
    return resources.files("backtriage.text").joinpath("data")


def _read(path: Traversable, name: str, problems: list[str]) -> object:
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"text/data/{name}: cannot be read: {exc}")
        return None


def _validate(model: type[M], raw: object, name: str, problems: list[str]) -> M | None:
    if raw is None:
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            problems.append(f"text/data/{name}: {loc}: {err['msg']}")
        return None


def _load(root: Traversable, name: str, model: type[M], problems: list[str]) -> M | None:
    """The data file ``name`` read and checked as ``model``; None (and problems) if it is not."""
    return _validate(model, _read(root / name, name, problems), name, problems)


def _target_files(root: Traversable) -> Iterator[tuple[str, Traversable]]:
    folder = root.joinpath("targets")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            yield f"targets/{entry.name}", entry


def _check_marks(forms: FormsFile, problems: list[str]) -> None:
    """A mark listed twice would be read as whichever list came last: one place each."""
    lists = {
        "boxes.ticked": forms.boxes.ticked,
        "boxes.unticked": forms.boxes.unticked,
        "boxes.unclear": forms.boxes.unclear,
        "radios.ticked": forms.radios.ticked,
        "radios.unticked": forms.radios.unticked,
    }
    where: dict[str, list[tuple[str, str]]] = {}
    for name, marks in lists.items():
        for mark in marks:
            # As the reader compares them: without spaces, in lower case ("[ X ]" is "[x]").
            where.setdefault("".join(mark.split()).lower(), []).append((name, mark))
    for listed in where.values():
        if len(listed) > 1:
            problems.append(
                f"text/data/forms.yaml: the mark {listed[0][1]!r} is listed {len(listed)} times "
                f"({', '.join(name for name, _ in listed)}); list it once"
            )


def load_rules(tokenize: Callable[[str], list[str]], root: Traversable | None = None) -> Rules:
    """Load, check and compile the rule files; raise ``KnowledgeError`` with all problems."""
    root = root or _data_root()
    problems: list[str] = []
    memo: dict[str, list[str]] = {}

    def cached(text: str) -> list[str]:
        # The same few hundred words recur across thousands of phrases.
        if text not in memo:
            memo[text] = tokenize(text)
        return memo[text]

    rules = Rules()

    findings = _load(root, "findings.yaml", FindingsFile, problems)
    if findings is not None:
        seen: set[str] = set()
        for group, entries in findings.groups.items():
            rules.groups[group] = []
            for entry in entries:
                if entry.id in seen:
                    problems.append(f"text/data/findings.yaml: {entry.id} is listed twice")
                seen.add(entry.id)
                rules.groups[group].append(entry.id)
                if entry.history:
                    rules.history_ids.add(entry.id)
    known_ids = set(rules.finding_ids)

    classes = _load(root, "classes.yaml", ClassesFile, problems)
    if classes is not None:
        for name, class_entry in classes.classes.items():
            if (class_entry.phrases is None) == (class_entry.regex is None):
                problems.append(f"text/data/classes.yaml: {name}: give phrases or regex, not both")
                continue
            rules.classes[name] = ClassDef(tuple(class_entry.phrases or ()), class_entry.regex)

    def compile_all(
        phrases: list[str], key: str, where: str, *, split: bool = False
    ) -> list[CompiledRule]:
        out: list[CompiledRule] = []
        for phrase in phrases:
            try:
                out.extend(
                    CompiledRule(key, phrase, p)
                    for p in compile_phrase(phrase, rules.classes, cached, split=split)
                )
            except PhraseSyntaxError as exc:
                problems.append(f"text/data/{where}: phrase {phrase!r}: {exc}")
        return out

    for name, path in _target_files(root):
        targets = _validate(TargetsFile, _read(path, name, problems), name, problems)
        if targets is None:
            continue
        for index, raw in enumerate(targets.concepts):
            concept = _validate(Concept, raw, f"{name}: concepts[{index}]", problems)
            if concept is None:
                continue
            where = f"{name}: {concept.id}"
            if concept.id in rules.concepts:
                problems.append(f"text/data/{where}: concept id used twice")
                continue
            for fid in concept.all_findings:
                if fid not in known_ids:
                    problems.append(
                        f"text/data/{where}: unknown finding id {fid!r} "
                        "(add it to text/data/findings.yaml first)"
                    )
            if concept.findings is None and not concept.ignore and concept.id not in known_ids:
                problems.append(f"text/data/{where}: not a finding id; give `findings:`")
            if concept.no_means_present and concept.asserts != "absent":
                problems.append(
                    f"text/data/{where}: no_means_present is for a normal function "
                    "(asserts: absent); a finding's own phrase is already read present"
                )
            rules.concepts[concept.id] = concept
            rules.targets.extend(compile_all(concept.phrases, concept.id, where, split=True))

    context = _load(root, "context.yaml", ContextFile, problems)
    if context is not None:
        for index, modifier in enumerate(context.modifiers):
            for ref in modifier.allowed or []:
                if ref not in rules.concepts and ref not in rules.groups:
                    problems.append(
                        f"text/data/context.yaml: modifiers[{index}].allowed: {ref!r} is neither "
                        "a concept id nor a finding group"
                    )
            rules.modifiers.append(modifier)
            rules.modifier_patterns.extend(
                compile_all(
                    modifier.phrases, str(index), f"context.yaml: modifiers[{index}]", split=True
                )
            )

    sections = _load(root, "sections.yaml", SectionsFile, problems)
    if sections is not None:
        rules.sections = list(sections.sections)
    rules.forms = _load(root, "forms.yaml", FormsFile, problems)
    if rules.forms is not None:
        _check_marks(rules.forms, problems)

    if problems:
        raise KnowledgeError(problems)
    return rules
