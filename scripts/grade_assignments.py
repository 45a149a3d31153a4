"""Build the course assignments with otter-grader and grade submissions locally.

Run from the repository root:

    python scripts/grade_assignments.py build
    python scripts/grade_assignments.py grade 01_adagrad_step submissions/ -o grades.csv
    python scripts/grade_assignments.py samples

``build`` runs ``otter assign`` on every source notebook in ``assignments/``,
or on the ones named. For an assignment NAME it writes
``_build/assignments/NAME/student/``, the notebook to hand out with its public
tests, and ``_build/assignments/NAME/autograder/``, which contains the
solutions, every test and the autograder zip that students must not see.

``grade`` grades every ``.ipynb`` file, and every ``.zip`` file written by a
notebook's export cell, under a folder. It uses otter's grading without
containers (``otter.api.grade_submission``, what ``otter run`` does): each
submission runs in a new kernel of the current Python environment, with the
permissions of the user who runs this command. It prints one line per
submission and writes a CSV file of the scores.

``samples`` builds every assignment, grades the sample submissions in
``assignments/samples/NAME/`` and compares each score with
``assignments/samples/expected_scores.json``. It exits with status 1 if a
score differs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import multiprocessing
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "assignments"
SAMPLES = SOURCES / "samples"
EXPECTED_SCORES = SAMPLES / "expected_scores.json"
DEFAULT_BUILD = ROOT / "_build" / "assignments"


def assignment_names() -> list[str]:
    """Return the names of the source notebooks in ``assignments/``, sorted."""
    return sorted(path.stem for path in SOURCES.glob("*.ipynb"))


def build(name: str, build_dir: Path = DEFAULT_BUILD, run_tests: bool = True) -> Path:
    """Run ``otter assign`` on ``assignments/NAME.ipynb`` and return its output folder.

    Args:
        name: the assignment, a source notebook's stem such as "01_adagrad_step".
        build_dir: the folder that receives ``NAME/student`` and ``NAME/autograder``.
        run_tests: let otter grade the solutions with every test before it
            writes the zip, which takes a few seconds more.

    Raises:
        FileNotFoundError: if there is no source notebook of that name.
    """
    from otter.assign import main as otter_assign

    source = SOURCES / f"{name}.ipynb"
    if not source.is_file():
        raise FileNotFoundError(
            f"no assignment {name!r}: expected {source}. "
            f"Available: {', '.join(assignment_names())}"
        )
    output = Path(build_dir).resolve() / name
    # otter assign changes the working directory while it runs.
    cwd = os.getcwd()
    try:
        otter_assign(str(source), str(output), no_pdfs=True, no_run_tests=not run_tests)
    finally:
        os.chdir(cwd)
    return output


def autograder_zip(output: Path) -> Path:
    """Return the autograder zip that ``build`` wrote into ``output/autograder``."""
    zips = sorted((output / "autograder").glob("*-autograder_*.zip"))
    if len(zips) != 1:
        raise FileNotFoundError(
            f"expected one autograder zip in {output / 'autograder'}, found "
            f"{len(zips)}; run: python scripts/grade_assignments.py build"
        )
    return zips[0]


def grade_submission(submission: str, autograder: str) -> dict:
    """Grade one submission with otter's grading without containers.

    Args:
        submission: path to a notebook, or to the zip of a notebook's export cell.
        autograder: path to the autograder zip of the submission's assignment.

    Returns:
        Plain data: ``submission``, ``score``, ``possible``, ``error`` (None
        unless the notebook could not be graded at all) and ``questions``,
        which maps each question to its ``score``, ``possible`` and ``cases``.
        Each case has ``name``, ``hidden``, ``points``, ``passed`` and
        ``message``.
    """
    from otter.api import grade_submission as otter_grade

    results = otter_grade(submission, autograder, quiet=True)
    if results.has_catastrophic_failure():
        return {
            "submission": submission,
            "score": 0.0,
            "possible": 0.0,
            "error": repr(results.catastrophic_error),
            "questions": {},
        }
    questions = {}
    for name, test_file in results.results.items():
        cases = [
            {
                "name": result.test_case.name,
                "hidden": result.test_case.hidden,
                "points": result.test_case.points,
                "passed": result.passed,
                "message": result.message,
            }
            for result in test_file.test_case_results
        ]
        questions[name] = {
            "score": test_file.score,
            "possible": test_file.possible,
            "cases": cases,
        }
    return {
        "submission": submission,
        "score": results.total,
        "possible": results.possible,
        "error": None,
        "questions": questions,
    }


def grading_pool(jobs: int) -> concurrent.futures.ProcessPoolExecutor:
    """Return a pool of ``jobs`` processes for ``grade_submission``.

    Each process imports otter once. The processes are started with "spawn",
    so they share no state with the caller.
    """
    context = multiprocessing.get_context("spawn")
    return concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context)


def find_submissions(folder: Path) -> list[Path]:
    """Return every .ipynb and .zip file under ``folder``, checkpoints excluded."""
    found = [
        path
        for pattern in ("*.ipynb", "*.zip")
        for path in folder.rglob(pattern)
        if ".ipynb_checkpoints" not in path.parts
    ]
    return sorted(found)


def grade_folder(folder: Path, autograder: Path, jobs: int) -> list[dict]:
    """Grade every submission under ``folder``, each in its own kernel.

    A submission that cannot be graded, such as a notebook of another
    assignment, gets a score of 0 and the exception's message in ``error``.

    Returns:
        One result of ``grade_submission`` per submission, in path order.
    """
    submissions = find_submissions(folder)
    results = []
    with grading_pool(jobs) as pool:
        futures = [
            pool.submit(grade_submission, str(path), str(autograder))
            for path in submissions
        ]
        for path, future in zip(submissions, futures):
            try:
                results.append(future.result())
            except Exception as error:  # an invalid notebook or the wrong assignment
                results.append(
                    {
                        "submission": str(path),
                        "score": 0.0,
                        "possible": 0.0,
                        "error": f"{type(error).__name__}: {error}",
                        "questions": {},
                    }
                )
    return results


def write_csv(results: list[dict], path: Path, root: Path) -> None:
    """Write the scores as CSV, one row per submission.

    The columns are the submission's path under ``root``, the score, the
    points possible, each question's score and the error, if any.
    """
    questions = sorted({name for result in results for name in result["questions"]})
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "score", "possible", *questions, "error"])
        for result in results:
            scores = [
                result["questions"].get(name, {}).get("score", "") for name in questions
            ]
            writer.writerow(
                [
                    Path(result["submission"]).relative_to(root),
                    result["score"],
                    result["possible"],
                    *scores,
                    result["error"] or "",
                ]
            )


def print_scores(results: list[dict], root: Path) -> None:
    """Print one line per submission: its path under ``root``, score and possible."""
    for result in results:
        path = Path(result["submission"]).relative_to(root)
        line = f"{str(path):<50} {result['score']:6.2f} / {result['possible']:6.2f}"
        if result["error"]:
            line += f"  not graded: {result['error']}"
        print(line)


def grade_samples(build_dir: Path, jobs: int) -> list[dict]:
    """Grade ``assignments/samples/NAME/*.ipynb`` with each built assignment.

    Returns:
        One row per sample, with ``assignment``, ``sample``, ``score``,
        ``possible``, ``expected`` (from expected_scores.json, None if it has
        no entry) and ``result`` (the output of ``grade_submission``).
    """
    expected = json.loads(EXPECTED_SCORES.read_text(encoding="utf-8"))
    jobs_to_run = []
    for name in assignment_names():
        autograder = autograder_zip(Path(build_dir) / name)
        for sample in sorted((SAMPLES / name).glob("*.ipynb")):
            jobs_to_run.append((name, sample, autograder))
    rows = []
    with grading_pool(jobs) as pool:
        futures = [
            pool.submit(grade_submission, str(sample), str(autograder))
            for _, sample, autograder in jobs_to_run
        ]
        for (name, sample, _), future in zip(jobs_to_run, futures):
            result = future.result()
            rows.append(
                {
                    "assignment": name,
                    "sample": sample.stem,
                    "score": result["score"],
                    "possible": result["possible"],
                    "expected": expected.get(name, {}).get(sample.stem),
                    "result": result,
                }
            )
    return rows


def _build_command(args: argparse.Namespace) -> int:
    for name in args.names or assignment_names():
        output = build(name, args.build_dir, run_tests=not args.no_run_tests)
        print(f"{name}: students get {output / 'student'}")
        print(f"{name}: keep private {autograder_zip(output)}")
    return 0


def _grade_command(args: argparse.Namespace) -> int:
    output = Path(args.build_dir) / args.name
    if args.rebuild or not (output / "autograder").is_dir():
        build(args.name, args.build_dir, run_tests=False)
    folder = args.folder.resolve()
    if not find_submissions(folder):
        print(f"no .ipynb or .zip files found under {folder}", file=sys.stderr)
        return 1
    results = grade_folder(folder, autograder_zip(output), args.jobs)
    print_scores(results, folder)
    write_csv(results, args.output, folder)
    print(f"scores written to {args.output}")
    return 1 if any(result["error"] for result in results) else 0


def _samples_command(args: argparse.Namespace) -> int:
    # The correct samples check the tests, so otter's own run of them is skipped.
    for name in assignment_names():
        build(name, args.build_dir, run_tests=False)
    rows = grade_samples(args.build_dir, args.jobs)
    mismatches = 0
    print(f"{'assignment':<18} {'sample':<8} {'score':>15} {'expected':>9}")
    for row in rows:
        status = "ok" if row["score"] == row["expected"] else "DIFFERENT"
        mismatches += status != "ok"
        score = f"{row['score']:g} / {row['possible']:g}"
        print(
            f"{row['assignment']:<18} {row['sample']:<8} {score:>15} "
            f"{row['expected']!s:>9}  {status}"
        )
    if mismatches:
        print(f"{mismatches} sample scores differ from {EXPECTED_SCORES}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--build-dir",
        type=Path,
        default=DEFAULT_BUILD,
        help="folder of the student and autograder versions (default: _build/assignments)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="submissions graded at the same time, each in its own kernel "
        "(default: the number of CPUs)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    build_parser = commands.add_parser("build", help="run otter assign on the sources")
    build_parser.add_argument(
        "names", nargs="*", help="assignments to build (default: all)"
    )
    build_parser.add_argument(
        "--no-run-tests",
        action="store_true",
        help="skip otter's check that the solutions pass every test",
    )
    build_parser.set_defaults(handler=_build_command)

    grade_parser = commands.add_parser("grade", help="grade a folder of submissions")
    grade_parser.add_argument("name", help="the assignment, e.g. 01_adagrad_step")
    grade_parser.add_argument("folder", type=Path, help="folder of .ipynb or .zip files")
    grade_parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("grades.csv"),
        help="CSV file for the scores (default: grades.csv)",
    )
    grade_parser.add_argument(
        "--rebuild",
        action="store_true",
        help="run otter assign again even if the autograder exists",
    )
    grade_parser.set_defaults(handler=_grade_command)

    samples_parser = commands.add_parser(
        "samples", help="grade assignments/samples and compare with the expected scores"
    )
    samples_parser.set_defaults(handler=_samples_command)

    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
