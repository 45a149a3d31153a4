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
permissions of the user who runs this command. Each grading runs in its own
process, which is killed with its kernel after ``--timeout`` seconds. The
command prints one line per submission as soon as it is graded and then
writes a CSV file of the scores.

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
import random
import sys
import threading
import zipfile
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "assignments"
SAMPLES = SOURCES / "samples"
EXPECTED_SCORES = SAMPLES / "expected_scores.json"
DEFAULT_BUILD = ROOT / "_build" / "assignments"
# Maximum time to grade one submission, in seconds. Grading one sample took 8
# to 10 seconds on a loaded two-core machine, kernel start included, so only a
# submission that hangs or loops for minutes reaches this limit.
DEFAULT_TIMEOUT = 300.0
# Seconds to wait for a grading process to exit after it sent its result.
EXIT_TIMEOUT = 30.0
# Ports for otter's logging server, below Linux's default ephemeral range
# (32768 to 60999) and macOS's (49152 to 65535). See start_logging_server.
LOGGING_PORTS = range(20000, 32768)


def assignment_names() -> list[str]:
    """Return the names of the source notebooks in ``assignments/``, sorted."""
    return sorted(path.stem for path in SOURCES.glob("*.ipynb"))


def unknown_assignment_message(name: str) -> str:
    """Return the error message for an assignment name without a source notebook."""
    return (
        f"no assignment {name!r}: expected {SOURCES / f'{name}.ipynb'}. "
        f"Available: {', '.join(assignment_names())}"
    )


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
        raise FileNotFoundError(unknown_assignment_message(name))
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


def assignment_total(autograder: Path) -> float:
    """Return the points possible of an assignment, read from its autograder zip.

    otter reports 0 points possible for a submission it could not grade, so
    the grading commands use this total for such submissions instead.
    """
    from otter.test_files import ExceptionTestFile

    total = 0.0
    with zipfile.ZipFile(autograder) as archive:
        for member in archive.namelist():
            if member.startswith("tests/") and member.endswith(".py"):
                source = archive.read(member).decode("utf-8")
                total += ExceptionTestFile.from_string(source, path=member).possible
    return total


def failed_result(submission: str, error: str, possible: float) -> dict:
    """Return the result of a submission that could not be graded: 0 points."""
    return {
        "submission": submission,
        "score": 0.0,
        "possible": possible,
        "error": error,
        "questions": {},
    }


def ephemeral_ports() -> range:
    """Return the range from which the system picks ports for bind(port 0)."""
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        low, high = (int(field) for field in text.split())
    except (OSError, ValueError):
        return range(32768, 65536)
    return range(low, high + 1)


def start_logging_server() -> tuple[tuple[str, int], Callable[[], None]]:
    """Start otter's log receiver on a port outside the ephemeral range.

    otter 7.0.0 binds its receiver to port 0, in the range from which
    jupyter_client picks kernel ports. jupyter_client frees a port between
    picking it and the kernel binding it, so when two submissions are graded
    at once one grading's receiver can take a port just picked for the
    other's kernel. That kernel then dies, and the receiver loops forever on
    the kernel client's bytes, which it reads as a log record's length. A
    port outside the ephemeral range is never picked for a kernel, and the
    receiver's thread is a daemon, so it cannot keep the process alive.

    Returns:
        What ``otter.execute.logging.start_server`` returns: the server's
        address and a function that stops it.
    """
    from otter.execute.logging import LogRecordSocketReceiver

    ephemeral = ephemeral_ports()
    ports = [port for port in LOGGING_PORTS if port not in ephemeral]
    random.shuffle(ports)
    for port in ports[:200]:
        try:
            server = LogRecordSocketReceiver(port=port)
        except OSError:
            continue
        break
    else:
        raise RuntimeError(
            f"no free port for otter's logging server in {LOGGING_PORTS} outside "
            f"the ephemeral range {ephemeral}"
        )
    thread = threading.Thread(target=server.serve_until_stopped, daemon=True)
    thread.start()

    def stop() -> None:
        server.abort = True

    return server.server_address, stop


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
    import otter.execute
    from otter.api import grade_submission as otter_grade

    # otter.execute calls start_server by this module-level name.
    otter.execute.start_server = start_logging_server
    results = otter_grade(submission, autograder, quiet=True)
    if results.has_catastrophic_failure():
        # otter reports 0 points possible here, and the callers that know the
        # assignment's total replace it.
        return failed_result(submission, repr(results.catastrophic_error), 0.0)
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


def _grade_in_child(connection, submission: str, autograder: str) -> None:
    """Grade one submission in a child process and send the result to the parent."""
    try:
        result = grade_submission(submission, autograder)
    except Exception as error:  # an invalid notebook or the wrong assignment
        result = failed_result(submission, f"{type(error).__name__}: {error}", 0.0)
    connection.send(result)
    connection.close()


def _kill_process_tree(pid: int) -> None:
    """Kill a process and all its descendants, the grading kernel included.

    jupyter_client starts each kernel in a session of its own, so killing the
    process group of the child would leave the kernel running.
    """
    import psutil

    try:
        parent = psutil.Process(pid)
        processes = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        return
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(processes, timeout=10)


def grade_with_timeout(
    submission: str, autograder: str, timeout: float, possible: float
) -> dict:
    """Grade one submission in a new process, killed after ``timeout`` seconds.

    Args:
        submission: path to a notebook, or to the zip of a notebook's export cell.
        autograder: path to the autograder zip of the submission's assignment.
        timeout: maximum grading time in seconds, kernel start included.
        possible: the assignment's points possible, reported for a submission
            that could not be graded.

    Returns:
        The result of ``grade_submission``. A submission that timed out or
        could not be graded gets 0 points and the reason in ``error``.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_grade_in_child, args=(sender, submission, autograder)
    )
    process.start()
    sender.close()
    try:
        if receiver.poll(timeout):
            result = receiver.recv()
        else:
            _kill_process_tree(process.pid)
            # NOTE: otter's temporary grading folder of a killed process stays
            # in the system's temporary directory.
            result = failed_result(submission, f"timed out after {timeout:g} s", possible)
    except EOFError:
        # The child exited without sending a result, for example when killed.
        process.join()
        result = failed_result(
            submission,
            f"grading process exited with status {process.exitcode}",
            possible,
        )
    finally:
        receiver.close()
    process.join(EXIT_TIMEOUT)
    if process.is_alive():
        # The result arrived, but a thread left behind keeps the process alive.
        _kill_process_tree(process.pid)
        process.join()
    if result["error"]:
        result["possible"] = possible
    return result


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


def grade_all(
    submissions: list[Path],
    autograder: Path,
    jobs: int,
    timeout: float,
    on_result: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Grade submissions of one assignment, ``jobs`` at a time, each with a timeout.

    A submission that cannot be graded, such as a notebook of another
    assignment or one that runs longer than ``timeout`` seconds, gets a score
    of 0, the assignment's points possible and the reason in ``error``.

    Args:
        on_result: called with each result as soon as that submission is graded.

    Returns:
        One result of ``grade_submission`` per submission, in the given order.
    """
    possible = assignment_total(autograder)
    results: dict[Path, dict] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            pool.submit(
                grade_with_timeout, str(path), str(autograder), timeout, possible
            ): path
            for path in submissions
        }
        for future in concurrent.futures.as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            if on_result is not None:
                on_result(result)
    return [results[path] for path in submissions]


def grade_folder(
    folder: Path,
    autograder: Path,
    jobs: int,
    timeout: float = DEFAULT_TIMEOUT,
    on_result: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Grade every submission under ``folder`` with ``grade_all``, in path order."""
    return grade_all(find_submissions(folder), autograder, jobs, timeout, on_result)


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


def score_line(result: dict, root: Path) -> str:
    """Return a submission's path under ``root``, score, possible and error."""
    path = Path(result["submission"]).relative_to(root)
    line = f"{str(path):<50} {result['score']:6.2f} / {result['possible']:6.2f}"
    if result["error"]:
        line += f"  not graded: {result['error']}"
    return line


def grade_samples(
    build_dir: Path, jobs: int, timeout: float = DEFAULT_TIMEOUT
) -> list[dict]:
    """Grade ``assignments/samples/NAME/*.ipynb`` with each built assignment.

    Returns:
        One row per sample, with ``assignment``, ``sample``, ``score``,
        ``possible``, ``expected`` (from expected_scores.json, None if it has
        no entry) and ``result`` (the output of ``grade_submission``).
    """
    expected = json.loads(EXPECTED_SCORES.read_text(encoding="utf-8"))
    rows = []
    for name in assignment_names():
        autograder = autograder_zip(Path(build_dir) / name)
        samples = sorted((SAMPLES / name).glob("*.ipynb"))
        results = grade_all(samples, autograder, jobs, timeout)
        for sample, result in zip(samples, results):
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
    results = grade_folder(
        folder,
        autograder_zip(output),
        args.jobs,
        args.timeout,
        on_result=lambda result: print(score_line(result, folder), flush=True),
    )
    write_csv(results, args.output, folder)
    print(f"scores written to {args.output}")
    return 1 if any(result["error"] for result in results) else 0


def _samples_command(args: argparse.Namespace) -> int:
    # The correct samples check the tests, so otter's own run of them is skipped.
    for name in assignment_names():
        build(name, args.build_dir, run_tests=False)
    rows = grade_samples(args.build_dir, args.jobs, args.timeout)
    mismatches = 0
    print(f"{'assignment':<18} {'sample':<8} {'score':>15} {'expected':>9}")
    for row in rows:
        status = "ok" if row["score"] == row["expected"] else "DIFFERENT"
        mismatches += status != "ok"
        score = f"{row['score']:g} / {row['possible']:g}"
        line = (
            f"{row['assignment']:<18} {row['sample']:<8} {score:>15} "
            f"{row['expected']!s:>9}  {status}"
        )
        if row["result"]["error"]:
            line += f"  not graded: {row['result']['error']}"
        print(line)
    if mismatches:
        print(f"{mismatches} sample scores differ from {EXPECTED_SCORES}", file=sys.stderr)
        return 1
    return 0


def _add_grading_options(parser: argparse.ArgumentParser, subcommand: bool) -> None:
    """Add ``--jobs`` and ``--timeout`` to the main parser or a subcommand's parser.

    Both options work before and after the subcommand. A subcommand's parser
    has no defaults, so that it keeps a value given before the subcommand.
    """
    jobs_default = os.cpu_count() or 1
    parser.add_argument(
        "--jobs",
        type=int,
        default=argparse.SUPPRESS if subcommand else jobs_default,
        help="submissions graded at the same time, each in its own process and "
        "kernel (default: the number of CPUs)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=argparse.SUPPRESS if subcommand else DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="maximum time to grade one submission, kernel start included; a "
        f"submission that takes longer gets 0 points (default: {DEFAULT_TIMEOUT:g})",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--build-dir",
        type=Path,
        default=DEFAULT_BUILD,
        help="folder of the student and autograder versions (default: _build/assignments)",
    )
    _add_grading_options(parser, subcommand=False)
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
    _add_grading_options(grade_parser, subcommand=True)
    grade_parser.set_defaults(handler=_grade_command)

    samples_parser = commands.add_parser(
        "samples", help="grade assignments/samples and compare with the expected scores"
    )
    _add_grading_options(samples_parser, subcommand=True)
    samples_parser.set_defaults(handler=_samples_command)

    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    if args.timeout <= 0:
        parser.error(f"--timeout must be > 0 seconds, got {args.timeout:g}")
    names = args.names if args.command == "build" else [getattr(args, "name", None)]
    for name in names:
        if name is not None and name not in assignment_names():
            print(f"error: {unknown_assignment_message(name)}", file=sys.stderr)
            return 2
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
