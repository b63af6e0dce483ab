"""The ``cartcohort`` command line: thin wrappers over the library, no statistics here.

Every command turns a :class:`~cartcohort.errors.CartcohortError` into a readable
message and a non-zero exit code; no command prints a traceback unless
``CARTCOHORT_DEBUG=1`` is set.

Exit codes: 0 success; 1 the data or the request has problems (validation
errors, unreadable file, failed import); 2 wrong command-line usage; 70 an
internal error (a bug in cartcohort — please report it).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from cartcohort.errors import CartcohortError
from cartcohort.ingest.limits import DEFAULT_LIMITS, MB, ReadLimits

app = typer.Typer(
    name="cartcohort",
    help="CAR-T cell therapy cohorts: validate, store and analyse patient-level data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_PROBLEMS = 1
EXIT_INTERNAL = 70

MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping", help="Column-mapping YAML for headers that differ from the standard."
    ),
]

RedcapOption = Annotated[
    Path | None,
    typer.Option(
        "--redcap-dictionary",
        help="PATH is a REDCap records export (CSV); read it with this project data "
        "dictionary (CSV).",
    ),
]

AllowIdentifiersOption = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-identifiers",
        metavar="COLUMN[,COLUMN]",
        help="Keep these columns although they look like direct identifiers (names, record "
        "numbers, dates of birth, contact details; HIPAA Safe Harbor). Refused by default.",
    ),
]


def _allowed(values: list[str] | None) -> tuple[str, ...]:
    from cartcohort.validate.identifiers import split_allow

    return split_allow(values)


MaxRowsOption = Annotated[
    int,
    typer.Option(
        "--max-rows", min=1, help="Most rows read from one table; larger files are refused."
    ),
]
MaxFileMbOption = Annotated[
    float,
    typer.Option(
        "--max-file-mb",
        min=0.001,
        help="Largest file read, in MB (an XLSX may unpack to 4 times this, a Parquet file "
        "hold 4 times this uncompressed); larger files are refused.",
    ),
]
#: Defaults of --max-rows and --max-file-mb: the library's (cartcohort.ingest.limits).
_DEFAULT_MAX_ROWS = DEFAULT_LIMITS.max_rows
_DEFAULT_MAX_FILE_MB = DEFAULT_LIMITS.max_file_bytes / MB


def _limits(max_rows: int, max_file_mb: float) -> ReadLimits:
    """Read limits from the command-line options (the rest as the library's defaults)."""
    return ReadLimits.for_files(max_file_bytes=int(max_file_mb * MB), max_rows=max_rows)


def _echo_err(message: str) -> None:
    typer.echo(message, err=True)


def _load_raw(  # type: ignore[no-untyped-def]
    path: Path, mapping: Path | None, limits: Any = None, redcap: Path | None = None
):
    from cartcohort.ingest import read_mapping, read_source

    column_mapping = read_mapping(mapping) if mapping is not None else None
    if redcap is not None:
        from cartcohort.ingest.readers import read_redcap

        return read_redcap(path, redcap, mapping=column_mapping, limits=limits)
    return read_source(path, mapping=column_mapping, limits=limits)


@app.command()
def validate(
    path: Annotated[
        Path | None, typer.Argument(help="Cohort file (CSV, XLSX, Parquet, DuckDB) or folder.")
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Validate the built-in demo cohorts.")
    ] = False,
    mapping: MappingOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    max_rows: MaxRowsOption = _DEFAULT_MAX_ROWS,
    max_file_mb: MaxFileMbOption = _DEFAULT_MAX_FILE_MB,
    allow_identifiers: AllowIdentifiersOption = None,
    redcap_dictionary: RedcapOption = None,
) -> None:
    """Check a cohort against the data standard and list every problem at once.

    Exits 1 when there are errors, 0 otherwise (warnings do not fail).
    """
    if (path is None) == (not demo):
        _echo_err("Give a PATH to validate, or --demo for the built-in demo cohorts (not both).")
        raise typer.Exit(2)
    from cartcohort.validate import validate_cohort

    targets: list[Path]
    if demo:
        from cartcohort.demo import demo_path

        targets = [demo_path("seed002_mrd"), demo_path("synthetic")]
    else:
        assert path is not None
        targets = [path]
    reports = []
    failed = False
    for target in targets:
        raw = _load_raw(target, mapping, _limits(max_rows, max_file_mb), redcap_dictionary)
        cohort, report = validate_cohort(raw, allow_identifiers=_allowed(allow_identifiers))
        failed = failed or not report.ok
        reports.append((target, cohort, report))
    if as_json:
        payload = [
            {"path": str(t), "cohort": c.name if c else None, **r.to_dict()} for t, c, r in reports
        ]
        typer.echo(json.dumps(payload if len(payload) > 1 else payload[0], indent=2))
    else:
        for target, cohort, report in reports:
            if cohort is not None:
                label = " (SYNTHETIC demo data)" if cohort.synthetic else ""
                sizes = ", ".join(f"{k} {len(v)}" for k, v in cohort.tables.items())
                typer.echo(f"{target}{label}: {cohort.n_patients} patients; rows: {sizes}")
            typer.echo(report.render_text())
    if failed:
        raise typer.Exit(EXIT_PROBLEMS)


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="Cohort file or folder to import.")],
    db: Annotated[Path, typer.Option("--db", help="DuckDB database file to write.")],
    mapping: MappingOption = None,
    max_rows: MaxRowsOption = _DEFAULT_MAX_ROWS,
    max_file_mb: MaxFileMbOption = _DEFAULT_MAX_FILE_MB,
    allow_identifiers: AllowIdentifiersOption = None,
    redcap_dictionary: RedcapOption = None,
) -> None:
    """Validate a cohort and write it into a DuckDB database, all or nothing.

    On validation errors nothing is written and the report is printed. An existing
    database is replaced only when the new one is completely written, and only when it
    is a database cartcohort wrote (never the input file or any other file). A new
    database is readable by its owner only; a replaced one keeps its permissions.
    """
    from cartcohort.store import write_cohort
    from cartcohort.validate import validate_cohort

    allowed = _allowed(allow_identifiers)
    raw = _load_raw(path, mapping, _limits(max_rows, max_file_mb), redcap_dictionary)
    cohort, report = validate_cohort(raw, allow_identifiers=allowed)
    if cohort is None:
        typer.echo(report.render_text())
        _echo_err(f"Nothing was imported: fix the errors above. {db} was not changed.")
        raise typer.Exit(EXIT_PROBLEMS)
    if report.warnings:
        typer.echo(report.render_text())
    write_cohort(cohort, db, source=path, allow_identifiers=allowed)
    sizes = ", ".join(f"{k} {len(v)}" for k, v in cohort.tables.items())
    typer.echo(f"Imported {cohort.n_patients} patients into {db} ({sizes}).")


@app.command()
def export(
    db: Annotated[Path, typer.Option("--db", help="cartcohort DuckDB database to read.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the tables into.")],
    fmt: Annotated[
        str, typer.Option("--format", help="csv, xlsx or parquet.", case_sensitive=False)
    ] = "csv",
    allow_identifiers: AllowIdentifiersOption = None,
) -> None:
    """Write a stored cohort back out as CSV, XLSX or Parquet files.

    Columns that look like direct identifiers are not exported unless allowed.
    """
    from cartcohort.store import export_cohort, read_cohort

    cohort = read_cohort(db)
    paths = export_cohort(
        cohort, out, fmt=fmt.lower(), allow_identifiers=_allowed(allow_identifiers)
    )
    typer.echo(f"Wrote {len(paths)} file(s) to {out}: " + ", ".join(p.name for p in paths))


@app.command()
def template(
    path: Annotated[Path, typer.Argument(help="Excel file to write, e.g. cohort.xlsx.")],
    redcap: Annotated[
        bool,
        typer.Option(
            "--redcap", help="Write a REDCap data dictionary (CSV) instead, e.g. dictionary.csv."
        ),
    ] = False,
) -> None:
    """Write a fill-in Excel template with one sheet per table, units and allowed values.

    With --redcap, write a REDCap data dictionary of the standard: one form per table
    (enable every form but patients as a repeating instrument).
    """
    from cartcohort.render.standard import write_template

    if redcap:
        from cartcohort.ingest.redcap import redcap_dictionary

        if path.suffix.lower() != ".csv":
            _echo_err(
                f"A REDCap data dictionary is a CSV file: use a .csv name (got {path.name!r})."
            )
            raise typer.Exit(2)
        path.write_text(redcap_dictionary(), encoding="utf-8")
        typer.echo(
            f"Wrote the REDCap data dictionary to {path}. Upload it in REDCap (Project Setup > "
            "Data Dictionary) and enable every form but 'patients' as a repeating instrument."
        )
        return

    if path.suffix.lower() != ".xlsx":
        _echo_err(f"The template is an Excel workbook: use a .xlsx name (got {path.name!r}).")
        raise typer.Exit(2)
    write_template(path)
    typer.echo(f"Wrote the cohort template to {path}.")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the demo cohorts into.")],
    fmt: Annotated[
        str, typer.Option("--format", help="csv, xlsx or parquet.", case_sensitive=False)
    ] = "csv",
) -> None:
    """Write the built-in demo cohorts (seed 002's 14 published patients; a SYNTHETIC cohort)."""
    from cartcohort.demo import write_demo

    choice = fmt.lower()
    if choice not in ("csv", "xlsx", "parquet"):
        _echo_err(f"--format must be csv, xlsx or parquet (got {fmt!r}).")
        raise typer.Exit(2)
    paths = write_demo(out, fmt=choice)  # type: ignore[arg-type]
    typer.echo(f"Wrote {len(paths)} file(s) to {out}. The 'synthetic' cohort is simulated data.")


map_app = typer.Typer(
    name="map",
    help="Column mappings: a centre's own headers and layout into the data standard.",
    no_args_is_help=True,
)
app.add_typer(map_app, name="map")


@map_app.command("suggest")
def map_suggest(
    path: Annotated[Path, typer.Argument(help="A CSV or XLSX file, e.g. a centre's workbook.")],
    max_rows: MaxRowsOption = _DEFAULT_MAX_ROWS,
    max_file_mb: MaxFileMbOption = _DEFAULT_MAX_FILE_MB,
) -> None:
    """Write a starting column mapping (YAML) to stdout: cartcohort map suggest FILE > mapping.yaml.

    It finds the header row and group rows, maps the headers it knows (clinical synonyms,
    then the standard's names), leaves direct identifiers out, proposes wide rules for
    per-day blocks and lists the rest as comments. Edit it, then validate with --mapping.
    """
    from cartcohort.validate.suggest import suggest_mapping

    typer.echo(suggest_mapping(path, limits=_limits(max_rows, max_file_mb)), nl=False)


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="The Markdown reference instead of JSON Schema.")
    ] = False,
) -> None:
    """Print the cohort data standard as JSON Schema (or Markdown)."""
    from cartcohort.model.standard import json_schema
    from cartcohort.render.standard import data_standard_markdown

    text = data_standard_markdown() if markdown else json.dumps(json_schema(), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {out}.")


class _Progress:
    """A progress bar on a terminal; one plain line per step otherwise (CI, pipes).

    The bar starts with the first step, not when it is made: ``cartcohort report`` forks
    its figure workers in between, and a process should not fork while the bar's refresh
    thread runs. ``total`` can grow (figures are counted as their plans finish).
    """

    def __init__(self, total: int) -> None:
        self._bar: Any = None  # rich.progress.Progress once started
        self._task: Any = None
        self.total = total
        self._tty = sys.stderr.isatty()

    def _start(self) -> None:
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
        except ImportError:  # typer without rich: plain lines
            self._tty = False
            return
        self._bar = Progress(
            TextColumn("{task.description:<48.48}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("", total=self.total)

    def step(self, label: str, *, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        if self._tty and self._bar is None:
            self._start()
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=label, advance=1, total=self.total)
        else:
            _echo_err(f"  {label}")

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _report_cohort(  # type: ignore[no-untyped-def]
    data: Path | None,
    mapping: Path | None,
    limits: Any = None,
    allow_identifiers: list[str] | None = None,
    redcap: Path | None = None,
):
    """Load and validate the cohort of ``cartcohort report`` (the demo when ``data`` is None)."""
    from cartcohort.validate import validate_cohort

    if data is None:
        from cartcohort.demo import demo_path

        _echo_err("No --data given: using the built-in SYNTHETIC demo cohort.")
        data = demo_path("synthetic")
    cohort, report = validate_cohort(
        _load_raw(data, mapping, limits, redcap), allow_identifiers=_allowed(allow_identifiers)
    )
    if cohort is None:
        typer.echo(report.render_text())
        _echo_err("No report was written: fix the validation errors above and run again.")
        raise typer.Exit(EXIT_PROBLEMS)
    return cohort, report


@app.command()
def report(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="Cohort file or folder (default: the built-in SYNTHETIC demo cohort)."
        ),
    ] = None,
    plan: Annotated[
        list[str] | None,
        typer.Option(
            "--plan",
            help="Built-in plan name or plan YAML file; repeat for several "
            "(default: all built-in).",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the report into.")] = Path(
        "cartcohort-report"
    ),
    mapping: MappingOption = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also write report.pdf (needs Chromium).")
    ] = False,
    docx: Annotated[
        bool,
        typer.Option(
            "--docx",
            help="Also write report.docx: the tables as editable Word tables, with the "
            "figures, captions and footnotes, for a manuscript.",
        ),
    ] = False,
    qpcr: Annotated[
        list[Path] | None,
        typer.Option(
            "--qpcr",
            help="qPCR plate export whose standard curves are shown "
            "in the data-quality section; repeat for several.",
        ),
    ] = None,
    immunoassay: Annotated[
        list[Path] | None,
        typer.Option(
            "--immunoassay",
            help="Bead-array/ELISA plate export (4PL) shown in the "
            "data-quality section; repeat for several.",
        ),
    ] = None,
    dna_ng: Annotated[
        float | None, typer.Option("--dna-ng", help="qPCR: genomic DNA per reaction, ng.")
    ] = None,
    max_rows: MaxRowsOption = _DEFAULT_MAX_ROWS,
    max_file_mb: MaxFileMbOption = _DEFAULT_MAX_FILE_MB,
    allow_identifiers: AllowIdentifiersOption = None,
    crs_system: Annotated[
        str,
        typer.Option(
            "--crs-system",
            help="CRS scale for grades derived from daily observations: astct (default), "
            "ctcae_v5.0, ctcae_v6.0, ctcae_v4.03, lee2014, penn, mskcc or cartox.",
        ),
    ] = "astct",
    icans_system: Annotated[
        str,
        typer.Option(
            "--icans-system",
            help="ICANS scale for grades derived from daily observations: astct (default) "
            "or ctcae_v6.0.",
        ),
    ] = "astct",
    relapse_rule: Annotated[
        str,
        typer.Option(
            "--relapse-rule",
            help="How a marrow aspirate shows relapse after CR: bbmt2010 (default, blasts >= "
            "25 %), ponte_di_legno_2022, or threshold (with --relapse-blasts-pct).",
        ),
    ] = "bbmt2010",
    relapse_blasts_pct: Annotated[
        float | None,
        typer.Option(
            "--relapse-blasts-pct",
            help="Marrow blasts (%) at or above which the threshold rule calls relapse.",
        ),
    ] = None,
    redcap_dictionary: RedcapOption = None,
) -> None:
    """Run analysis plans on a cohort and write the report (HTML, results.json, tables, figures).

    Without arguments, every built-in plan runs on the built-in SYNTHETIC demo cohort.
    Exits 1 without writing anything when the cohort has validation errors, or when
    --out is a folder that is not empty and was not written by cartcohort. The report
    is built next to --out and moved into place when complete: a failed run leaves an
    earlier report as it was, and no file that cartcohort did not write is deleted.
    """
    from cartcohort.errors import PlanError
    from cartcohort.plan.schema import builtin_plans, load_plan
    from cartcohort.render.report.build import check_report_folder

    check_report_folder(out)  # before any work: never a user's folder
    from cartcohort.derive.response import resolve_relapse_rule
    from cartcohort.derive.toxicity import CRS_SCALES, ICANS_SCALES
    from cartcohort.errors import DerivationError

    resolve_relapse_rule(relapse_rule, relapse_blasts_pct)  # type: ignore[arg-type]

    for option, value, scales in (
        ("--crs-system", crs_system, CRS_SCALES),
        ("--icans-system", icans_system, ICANS_SCALES),
    ):
        if value not in scales:
            msg = f"{option} must be one of {', '.join(scales)}; got {value!r}."
            raise DerivationError(msg)

    names = list(plan) if plan else list(builtin_plans())
    if not names:
        msg = "No plan given and no built-in plans are installed; pass --plan FILE."
        raise PlanError(msg)
    plans = [load_plan(name) for name in names]  # plan errors before any work
    cohort, validation = _report_cohort(
        data, mapping, _limits(max_rows, max_file_mb), allow_identifiers, redcap_dictionary
    )
    assays = [_quantify(p, "qpcr", dna_ng) for p in qpcr or ()]
    assays += [_quantify(p, "immunoassay", None) for p in immunoassay or ()]

    from cartcohort._pool import WorkerPool
    from cartcohort.derive.dataset import derive
    from cartcohort.plan.outputs import PlanResult
    from cartcohort.plan.run import iter_plans
    from cartcohort.render.report import chromium_available, write_report

    dataset = derive(
        cohort,
        crs_system=crs_system,  # type: ignore[arg-type]
        icans_system=icans_system,  # type: ignore[arg-type]
        relapse_rule=relapse_rule,  # type: ignore[arg-type]
        relapse_blasts_pct=relapse_blasts_pct,
    )
    n_analyses = sum(len(p.analyses) for p in plans)
    progress = _Progress(total=n_analyses)
    results: list[PlanResult] = []
    try:
        # one pool of worker processes runs the analyses, then draws the figures; the
        # report is written as the plans' results arrive, in plan order
        with WorkerPool() as pool:
            running = iter_plans(
                plans,
                cohort,
                dataset=dataset,
                pool=pool,
                progress=lambda label, _i, _n: progress.step(label),
            )

            def collect() -> Iterator[PlanResult]:
                for result in running:
                    results.append(result)
                    yield result

            html = write_report(
                collect(),
                out,
                validation=validation,
                dataset=dataset,
                cohort=cohort,
                assays=assays,
                pdf=pdf and chromium_available(),
                docx=docx,
                progress=lambda label, _i, n: progress.step(
                    f"figure {label}", total=n_analyses + n
                ),
                pool=pool,
            )
    finally:
        progress.stop()
    if pool.lost:
        _echo_err(
            "Note: a worker process stopped unexpectedly (killed, perhaps because the "
            f"machine ran out of memory); {pool.lost} piece(s) of work were done again in "
            "the main process."
        )
    done = sum(o.status == "done" for r in results for o in r.outputs)
    label = " (SYNTHETIC demo data)" if cohort.synthetic else ""
    typer.echo(
        f"Report on {cohort.name}{label}: {done} of {n_analyses} analyses computed "
        f"({len(plans)} plan(s))."
    )
    typer.echo(f"Wrote {html}")
    typer.echo(f"      {out / 'results.json'}, {out / 'tables'}/, {out / 'figures'}/")
    if docx:
        typer.echo(f"Wrote {out / 'report.docx'}")
    if pdf and chromium_available():
        typer.echo(f"Wrote {out / 'report.pdf'}")
    elif pdf:
        _echo_err(
            "No PDF: it needs Chromium (/usr/bin/chromium; Debian/Ubuntu: "
            "apt-get install chromium). The HTML report was written; print it from a browser."
        )


@app.command()
def assay(
    plate: Annotated[Path, typer.Argument(help="Plate export (CSV or XLSX), one row per well.")],
    kind: Annotated[
        str, typer.Option("--kind", help="qpcr (Ct, copies) or immunoassay (MFI/OD, pg/mL).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the results into.")],
    dna_ng: Annotated[
        float | None,
        typer.Option("--dna-ng", help="qPCR: genomic DNA per reaction, ng (or a column)."),
    ] = None,
    model: Annotated[str, typer.Option("--model", help="immunoassay: 4pl or 5pl.")] = "4pl",
    weighting: Annotated[
        str, typer.Option("--weighting", help="immunoassay: none or 1/y^2.")
    ] = "none",
) -> None:
    """Standard curves from a plate export to kinetics (qPCR) or lab rows (immunoassay).

    Values outside a curve's validated range are never extrapolated: they are left empty
    with a flag. Writes the cohort rows, the sample and fit tables, and one figure per fit.
    """
    from cartcohort.render.assay import write_assay_outputs

    if kind not in ("qpcr", "immunoassay"):
        _echo_err(f"--kind must be qpcr or immunoassay (got {kind!r}).")
        raise typer.Exit(2)
    result = _quantify(plate, kind, dna_ng, model=model, weighting=weighting)
    paths = write_assay_outputs(result, out)
    for fit in result.fits.values():
        status = (
            "accepted" if fit.accepted else "NOT accepted: " + "; ".join(fit.acceptance_failures)
        )
        typer.echo(
            f"{fit.fit_id}: R² {fit.r_squared:.4f}, range {fit.lloq:g}-{fit.uloq:g}; {status}"
        )
    for message in result.warnings:
        _echo_err(f"Warning: {message}")
    typer.echo(f"Wrote {len(paths)} file(s) to {out}.")


def _quantify(  # type: ignore[no-untyped-def]
    plate: Path, kind: str, dna_ng: float | None, *, model: str = "4pl", weighting: str = "none"
):
    """Read a plate export and quantify it (qPCR copies or immunoassay concentrations)."""
    from cartcohort.assay import quantify_immunoassay, quantify_qpcr, read_plate

    export = read_plate(plate)
    if kind == "qpcr":
        return quantify_qpcr(export.samples, export.standards, dna_ng_per_reaction=dna_ng)
    return quantify_immunoassay(
        export.samples,
        export.standards,
        model=model,  # type: ignore[arg-type]
        weighting=weighting,  # type: ignore[arg-type]
    )


def _register_serve() -> None:
    # The web extra is optional: the command exists either way and explains what to install.
    from cartcohort.web.cli import serve

    app.command("serve")(serve)


_register_serve()


def main() -> None:
    """Entry point of the ``cartcohort`` command.

    Command-line misuse (an unknown command or option, a missing argument, a bad value) is
    Typer's to report: it prints the usage, a one-line hint and the problem, and exits 2.
    Typer runs in its standalone mode for that, whichever Click it uses (Typer >= 0.2x
    vendors its own copy; older releases use the ``click`` package), so this module never
    imports Click itself. What escapes a command is either a :class:`CartcohortError` (a
    readable message, exit 1) or a bug (exit 70 with a one-line report; the traceback only
    with ``CARTCOHORT_DEBUG=1``).
    """
    try:
        app(prog_name="cartcohort")
    except SystemExit as exc:  # standalone mode always ends in sys.exit
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code != 0:
            raise
        _leave(0)
    except CartcohortError as exc:
        _echo_err(f"Error: {exc}")
        sys.exit(EXIT_PROBLEMS)
    except Exception as exc:  # the last guard: a user never sees a traceback
        if os.environ.get("CARTCOHORT_DEBUG"):
            raise
        _echo_err(
            f"Internal error ({type(exc).__name__}: {exc}). This is a bug in cartcohort; "
            "run again with CARTCOHORT_DEBUG=1 to see the details and please report it."
        )
        sys.exit(EXIT_INTERNAL)


def _leave(code: int) -> None:
    """Exit after a command that succeeded, without the interpreter's teardown.

    Every file the command wrote is closed and its worker processes have been joined;
    what is left is freeing the scientific stack's modules and objects, which takes
    about 0.25 s (a fortieth of the demo report). Standard streams are flushed first.
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # a closed pipe (cartcohort ... | head)
        os._exit(code)
    os._exit(code)


if __name__ == "__main__":
    main()
