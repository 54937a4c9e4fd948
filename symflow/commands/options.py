"""The options several ``symflow`` commands share, each defined once: one spelling, one help text, one check.

    def register(sub):
        p = sub.add_parser("landscape", help=...)
        options.group_name(p)                 # the positional NAME
        options.seed(p)                       # --seed S, an int >= 0 when run() sees it
        options.runs(p, run)                  # instead of p.set_defaults(func=run)

Every value is checked once, by the converter its option registers: :func:`runs` wraps the command so
that the converters turn the parsed text into the canonical value (``args.seed`` is an ``int``) before
``run(args)`` starts. A bad value is a :class:`~symflow.errors.SymflowError`, printed by the CLI as one
line with exit status 2 (``symflow landscape: error: --seed must be a non-negative integer, got 'x'``).

Spellings (one per idea):

- one group: the positional ``NAME`` (``lottery`` and ``grok`` also read ``23`` as ``Z23`` and keep
  ``--p``, ``grok`` keeps ``--group``, as aliases);
- outputs: ``--out`` (a folder through :class:`symflow.outputs.OutputFolder`, with ``--force``; or a
  file through :func:`symflow.outputs.check_file` and :class:`symflow.outputs.AtomicFile`; the
  earlier spellings ``--save`` and ``-o/--output`` stay as aliases);
- a compact group: ``NAME`` with ``--bandlimit L`` (registered by :func:`group_name` on every command taking a
  ``NAME``; a command that needs a finite group refuses ``SO(2)``, ``O(2)``, ``SO(3)``, ``O(3)`` in one line);
- ``--seed``, ``--starts``, ``--width``: integers; ``--shared``, ``--spheres``, ``--loss``, ``--json``,
  ``--no-progress``: one meaning and one help text everywhere.
"""
from __future__ import annotations

import argparse
import functools
import re

from ..errors import SymflowError

#: The help text of the positional group NAME (the grammar: ``symflow groups``).
NAME_HELP = "group name, e.g. Z7, Z3xZ5, D5, Q8, S4, A5, F21 ('symflow groups' lists the forms)"
#: The epilog line of every command that takes a group NAME.
NAME_EPILOG = "NAME is a group name: 'symflow groups' lists the accepted forms."


class Parser(argparse.ArgumentParser):
    """``argparse`` with the CLI's error form: one line ``symflow COMMAND: error: ...`` and exit status 2
    (no usage block), like every :class:`~symflow.errors.SymflowError`."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


class LazyHelp(str):
    """A help text built by ``make()`` only when ``--help`` prints it (``argparse`` formats a help text with
    ``help % params``), so that registering a command imports nothing heavy (e.g. a config class whose
    module loads SymPy just to show its defaults)."""

    def __new__(cls, make):
        self = super().__new__(cls, "(built when --help is printed)")
        self.make = make
        return self

    def __mod__(self, params):
        return self.make() % params


# ---------------------------------------------------------------------- converters
def _checks(p) -> list:
    """The ``(dest, convert)`` pairs registered on the parser ``p`` (run in order by :func:`runs`)."""
    if not hasattr(p, "_symflow_checks"):
        p._symflow_checks = []
    return p._symflow_checks


def check(p, dest: str, convert) -> None:
    """Register ``args.<dest> = convert(args.<dest>)`` to run before the command (``None`` stays ``None``)."""
    _checks(p).append((dest, convert))


def check_args(p, inspect) -> None:
    """Register ``inspect(args)`` (a check of several options together) to run before the command."""
    _checks(p).append((None, inspect))


def _checked(checks, run, args):
    for dest, convert in checks:
        if dest is None:
            convert(args)
            continue
        value = getattr(args, dest, None)
        if value is not None:
            setattr(args, dest, convert(value))
    return run(args)


def runs(p, run) -> None:
    """Make ``run(args)`` the command of ``p``, after every registered converter (see the module doc)."""
    p.set_defaults(func=functools.partial(_checked, list(_checks(p)), run))


def integer_option(name: str, minimum: int = 0):
    """The converter of an integer option ``name``: decimal text or an int, ``>= minimum``."""
    from ..validation import integer

    return lambda value: integer(value, name, minimum=minimum, text=True)


def choice_option(name: str, choices):
    """The converter of an option with fixed ``choices`` (named in the error: ``'a' or 'b'``)."""
    from ..validation import choice

    what = " or ".join(map(repr, choices))
    return lambda value: choice(value, name, tuple(choices), what=what)


def _choices_metavar(choices) -> str:
    return "{" + ",".join(choices) + "}"


# ---------------------------------------------------------------------- the group
def group_name(p, default: str | None = None, optional: bool = False, note: str = "",
               compact: str | None = None) -> None:
    """The positional ``NAME`` (``args.name``); ``default`` (or ``optional``) makes it optional. Also ``--bandlimit L``
    (``args.bandlimit``, the band limit of a compact group): ``compact=None`` means the command needs a finite
    group and refuses ``SO(2)``, ``O(2)``, ``SO(3)``, ``O(3)`` in one line (:func:`compact_gate`); otherwise
    ``compact`` is the help note of ``--bandlimit``."""
    if default is not None or optional:
        help_text = NAME_HELP + (f" (default {default})" if default is not None else "")
        p.add_argument("name", nargs="?", default=default, metavar="NAME", help=help_text + note)
    else:
        p.add_argument("name", metavar="NAME", help=NAME_HELP + note)
    bandlimit(p, compact or "; this command needs a finite group and refuses compact ones")
    check_args(p, functools.partial(compact_gate, command=p.prog, supported=compact is not None))


def bandlimit(p, note: str = "") -> None:
    """``--bandlimit L``: the band limit of a compact group (``|k| <= L``, ``l <= L``), an integer >= 0."""
    p.add_argument("--bandlimit", default=None, metavar="L",
                   help="band limit of a compact group NAME (SO(2), O(2), SO(3), O(3)): keep the irreps with "
                        "|k| <= L or l <= L" + note)
    check(p, "bandlimit", _bandlimit_value)


def _bandlimit_value(value) -> int:
    from ..groups.compact.groups import check_bandlimit

    return check_bandlimit(value)


def refuse_compact(names, command: str = "this command") -> None:
    """One-line refusal when one of ``names`` is a compact group, for a command that needs finite groups."""
    from ..groups.names import is_compact_name, normalise

    name = next((str(n) for n in names if is_compact_name(str(n))), None)
    if name is not None:
        raise SymflowError(f"{normalise(name)} is a compact group; {command} needs a finite group (its derivation "
                           f"sums over the n group elements; the Haar-integral version on band-limited compact groups "
                           f"is not implemented). Compact groups work with 'symflow group', 'symflow branching' and "
                           f"'symflow rates'; use a finite subgroup such as Z8, D8, A4, S4 or A5")


def compact_gate(args, command: str = "this command", supported: bool = False) -> None:
    """Refuse in one line: a compact ``NAME`` in a command that needs a finite group (saying what is missing), a
    compact ``NAME`` without ``--bandlimit``, and ``--bandlimit`` with a finite group."""
    from ..groups.names import is_compact_name, normalise

    name = getattr(args, "name", None)
    if name is None:
        return
    compact = is_compact_name(str(name))
    if compact and not supported:
        refuse_compact([name], command)
    if compact and getattr(args, "bandlimit", None) is None:
        from ..groups.compact.groups import check_bandlimit

        check_bandlimit(None, normalise(str(name)))
    if not compact and getattr(args, "bandlimit", None) is not None:
        raise SymflowError(f"--bandlimit applies to the compact groups SO(2), O(2), SO(3), O(3) only; "
                           f"{name} is a finite group (drop --bandlimit)")


def cyclic_modulus(text) -> int | None:
    """``p`` of ``Z<p>`` from a group name or a bare modulus (``23``, ``Z23``, ``c 23`` -> 23); ``None`` when
    the name is not a cyclic group's (the grammar: :func:`symflow.groups.names.normalise`)."""
    from ..groups.names import normalise

    s = str(text).strip()
    if re.fullmatch(r"\d+", s):
        return int(s)
    m = re.fullmatch(r"Z(\d+)", normalise(s))
    return int(m.group(1)) if m else None


def modular_group(p, alias_help: str = "alias of NAME: the odd modulus p of Z_p") -> None:
    """``NAME`` of a command on ``Z_p`` (``lottery``, ``grok``): ``Z23`` or ``23``; ``--p P`` is an alias.
    :func:`modulus` reads the two."""
    p.add_argument("name", nargs="?", default=None, metavar="NAME",
                   help="the group Z<p> (p odd), e.g. Z23 or 23 (default Z23)")
    p.add_argument("--p", default=None, metavar="P", help=alias_help)


def modulus(args, default: int = 23, command: str = "this command") -> int:
    """The modulus ``p`` from ``NAME`` or ``--p`` (which must agree when both are given); ``default`` if neither."""
    from ..validation import integer

    p_alias = None if args.p is None else integer(args.p, "--p", minimum=None, text=True,
                                                  what="an odd integer >= 3 (the modulus of Z_p)")
    p_name = None
    if args.name is not None:
        p_name = cyclic_modulus(args.name)
        if p_name is None:
            raise SymflowError(f"{command} runs on Z_p: NAME must be Z<p> or p with p an odd integer >= 3, "
                               f"e.g. Z23 or 23, got {args.name!r}")
    if p_name is not None and p_alias is not None and p_name != p_alias:
        raise SymflowError(f"NAME {args.name!r} and --p {p_alias} name two groups: give one of them")
    return next((v for v in (p_name, p_alias) if v is not None), default)


# ---------------------------------------------------------------------- the model
def shared(p) -> None:
    p.add_argument("--shared", action="store_true", help="shared input embedding theta1 = theta2")


def spheres(p, default: str | None = None) -> None:
    """``--spheres separate|joint``; ``default=None``: the loss decides (CE separate, MSE joint)."""
    from ..neuron import SPHERES

    help_text = ("separate unit spheres for theta1 and theta2 (CE default) or one joint sphere for "
                 "[theta1; theta2] (MSE default)") if default is None else \
        f"separate unit spheres for theta1 and theta2 or one joint sphere for [theta1; theta2] (default {default})"
    p.add_argument("--spheres", metavar=_choices_metavar(SPHERES), default=default, help=help_text)
    check(p, "spheres", choice_option("--spheres", SPHERES))


#: The note of ``--loss`` for the neuron models (derive, landscape, study, verify).
MODEL_LOSSES = ": GC's small-logit cross-entropy or Li2's sample-centred MSE"


def loss(p, note: str = MODEL_LOSSES) -> None:
    """``--loss ce|mse`` (default ce); ``note`` says which losses the command's model means."""
    from ..neuron import LOSSES

    p.add_argument("--loss", metavar=_choices_metavar(LOSSES), default="ce",
                   help="ce (default) or mse" + note)
    check(p, "loss", choice_option("--loss", LOSSES))


def activation(p, default: str | None, accepted: str, dest: str = "activation", aliases=()) -> None:
    """``--activation EXPR``: the one activation vocabulary (:mod:`symflow.neuron.activation`); ``accepted`` says
    which of its forms the command takes (checked by the command, whose model knows what it can run)."""
    text = accepted if default is None else f"{accepted} (default {default})"
    p.add_argument("--activation", *aliases, dest=dest, default=default, metavar="EXPR", help=text)


def seed(p, what: str = "the random starts") -> None:
    """``--seed S``: a non-negative integer (default 0)."""
    p.add_argument("--seed", default=0, metavar="S", help=f"seed of {what}: an integer >= 0 (default 0)")
    check(p, "seed", integer_option("--seed", minimum=0))


def starts(p, default: int) -> None:
    """``--starts N``: the number of seeded random starts, a positive integer."""
    p.add_argument("--starts", default=default, metavar="N", help=f"number of seeded random starts (default {default})")
    check(p, "starts", integer_option("--starts", minimum=1))


def width(p, default: int | None, what: str = "number of neurons M") -> None:
    """``--width M``: a positive integer."""
    tail = f" (default {default})" if default is not None else ""
    p.add_argument("--width", default=default, metavar="M", help=what + tail if tail else what)
    check(p, "width", integer_option("--width", minimum=1))


# ---------------------------------------------------------------------- what is printed and written
def json_flag(p, note: str = "", what: str = "one JSON object (public contract)") -> None:
    p.add_argument("--json", action="store_true", help=f"print {what}{note}")


def no_progress(p) -> None:
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def out_folder(p, kind: str, default: str | None = None, shown: str | None = None, writes: str = "the report") -> None:
    """``--out DIR`` and ``--force`` of an output folder of ``kind`` (:class:`symflow.outputs.OutputFolder`:
    checked before computing, replaced whole, an earlier output of another kind only with ``--force``);
    ``default`` is the folder written without ``--out`` (``shown``: how the help names a computed default)."""
    shown = shown or default
    tail = f" (default {shown})" if shown else ""
    p.add_argument("--out", default=default, metavar="DIR", help=f"write {writes} to the folder DIR{tail}, replaced "
                                                                  "whole")
    p.add_argument("--force", action="store_true",
                   help=f"replace --out even when it is a non-empty folder that is not an earlier {kind} output; "
                        f"run even when the memory estimate exceeds the machine's memory")


def force(p) -> None:
    """``--force`` of a command without an output folder: run even when the memory estimate is refused
    (:mod:`symflow.resources`; the CLI reads ``args.force`` for every command)."""
    p.add_argument("--force", action="store_true", help="run even when the memory estimate exceeds the machine's memory")


def out_file(p, metavar: str, writes: str, aliases=()) -> None:
    """``--out FILE`` (``args.out``; earlier spellings in ``aliases``) of a single file: checked before
    computing (:func:`symflow.outputs.check_file`), written aside and renamed (:class:`symflow.outputs.AtomicFile`)."""
    p.add_argument("--out", *aliases, dest="out", default=None, metavar=metavar, help=f"write {writes} to {metavar}")


def write_text_file(path, text: str) -> None:
    """Write ``text`` to ``path`` through :class:`symflow.outputs.AtomicFile` (never a half-written file)."""
    from ..outputs import AtomicFile

    with AtomicFile(path) as tmp:
        tmp.write_text(text)


def explicit(value, default):
    """``value`` unless it is ``None`` (the option was not given): then ``default``. An explicit value always
    wins, even when it equals some other default."""
    return default if value is None else value
