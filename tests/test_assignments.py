"""Build the otter-grader assignments and grade real notebooks with them.

The module runs ``otter assign`` once on every ``assignments/*.ipynb`` into a
temporary folder. Each notebook below is then graded by otter's own grading
without containers (``otter.api.grade_submission``, what ``otter run`` does)
against the autograder zip of its assignment, in a pool of processes:

- the reference solutions, which must pass every test case;
- the student notebook with the reference answers, except for one typical
  mistake written into an answer cell, which must fail the named test case
  with a message that names the mistake;
- the sample submissions in ``assignments/samples/``, whose scores must match
  ``assignments/samples/expected_scores.json``.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The grading pool starts processes with "spawn": they import the script by
# name, so its folder has to be on sys.path, which the children inherit.
sys.path.insert(0, str(ROOT / "scripts"))

import grade_assignments  # noqa: E402

ASSIGNMENTS = grade_assignments.assignment_names()
ANSWER_TAG = "otter_answer_cell"
JOBS = os.cpu_count() or 1
# Maximum time to grade one notebook, in seconds. It is generous, so that
# only a hung kernel reaches it, and it fails the test instead of blocking it.
GRADING_TIMEOUT = 600


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer and how the autograder must report it.

    Attributes:
        assignment: the assignment's name.
        answers: answer cells to replace, by the name the cell defines.
        test: the test function that must fail.
        message: a fragment of that test's failure message.
        notebook: the graded notebook. Mistakes in questions that do not use
            each other's answers share one, which saves a kernel start each.
    """

    assignment: str
    answers: dict[str, str]
    test: str
    message: str
    notebook: str


MISTAKES = {
    "adagrad-eps-outside-root": Mistake(
        "01_adagrad_step",
        {
            "adagrad_step": '''
def adagrad_step(theta, G, g, lr, eps=1e-8):
    G_new = accumulate(G, g)
    return theta - lr * g / (np.sqrt(G_new) + eps), G_new
'''
        },
        "test_step_values",
        "outside the square root",
        "01-a",
    ),
    "adagrad-gradient-not-squared": Mistake(
        "01_adagrad_step",
        {
            "accumulate": '''
def accumulate(G, g):
    return G + g
'''
        },
        "test_accumulate_values",
        "square the gradient",
        "01-b",
    ),
    "adagrad-accumulator-updated-in-place": Mistake(
        "01_adagrad_step",
        {
            "accumulate": '''
def accumulate(G, g):
    G += g * g
    return G
'''
        },
        "test_accumulate_keeps_inputs",
        "changed the array G",
        "01-c",
    ),
    "adagrad-divides-by-previous-accumulator": Mistake(
        "01_adagrad_step",
        {
            "adagrad_step": '''
def adagrad_step(theta, G, g, lr, eps=1e-8):
    theta_new = theta - lr * g / np.sqrt(G + eps)
    return theta_new, accumulate(G, g)
'''
        },
        "test_step_values",
        "from before this step",
        "01-d",
    ),
    "adagrad-history-aliases-one-array": Mistake(
        "01_adagrad_step",
        {
            "run_adagrad": '''
def run_adagrad(objective, theta0, lr, steps, eps=1e-8):
    theta = np.array(theta0, dtype=float)
    G = np.zeros_like(theta)
    points = [theta]
    for _ in range(steps):
        theta_new, G = adagrad_step(theta, G, objective.grad(theta), lr, eps)
        theta[:] = theta_new
        points.append(theta)
    return np.array(points)
'''
        },
        "test_run_matches_optimlib",
        "the same array was stored",
        "01-a",
    ),
    "adagrad-accumulator-overwritten-each-step": Mistake(
        "01_adagrad_step",
        {
            "run_adagrad": '''
def run_adagrad(objective, theta0, lr, steps, eps=1e-8):
    theta = np.array(theta0, dtype=float)
    points = [theta]
    for _ in range(steps):
        G = np.zeros_like(theta)
        theta, G = adagrad_step(theta, G, objective.grad(theta), lr, eps)
        points.append(theta)
    return np.array(points)
'''
        },
        "test_run_matches_optimlib",
        "starts again from zero",
        "01-c",
    ),
    "adagrad-calls-optimlib": Mistake(
        "01_adagrad_step",
        {
            "adagrad_step": '''
def adagrad_step(theta, G, g, lr, eps=1e-8):
    optimizer = ol.AdaGrad(lr=lr, eps=eps)
    theta_new = np.array(theta, dtype=float)
    state = optimizer.init(theta_new)
    state.accumulator[...] = G
    optimizer.step(theta_new, g, state)
    return theta_new, state.accumulator
'''
        },
        "test_step_own_code",
        "uses optimlib's AdaGrad",
        "01-e",
    ),
    "rates-average-instead-of-sum": Mistake(
        "02_stall",
        {
            "effective_lrs": '''
def effective_lrs(grads, lr, eps=1e-8):
    steps = np.arange(1, len(grads) + 1)[:, None]
    return lr / np.sqrt(np.cumsum(grads**2, axis=0) / steps + eps)
'''
        },
        "test_rates_values",
        "AdaGrad sums them",
        "02-a",
    ),
    "rates-one-step-behind": Mistake(
        "02_stall",
        {
            "effective_lrs": '''
def effective_lrs(grads, lr, eps=1e-8):
    G = np.cumsum(grads**2, axis=0)
    G_before = np.vstack([np.zeros((1, grads.shape[1])), G[:-1]])
    return lr / np.sqrt(G_before + eps)
'''
        },
        "test_rates_values",
        "must already include the current gradient",
        "02-b",
    ),
    "rates-call-optimlib": Mistake(
        "02_stall",
        {
            "effective_lrs": '''
def effective_lrs(grads, lr, eps=1e-8):
    return ol.adagrad_effective_lr(grads, lr=lr, eps=eps)
'''
        },
        "test_rates_own_code",
        "uses optimlib's adagrad_effective_lr",
        "02-c",
    ),
    "constant-gradient-step-one-early": Mistake(
        "02_stall",
        {
            "steps_until_below": '''
def steps_until_below(c, lr, tol, eps=0.0):
    return max(1, int(((lr * c / tol) ** 2 - eps) / c**2))
'''
        },
        "test_constant_values",
        "one step too early",
        "02-a",
    ),
    "stall-step-counted-from-zero": Mistake(
        "02_stall",
        {
            "first_step_below": '''
def first_step_below(points, tol):
    lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)
    short = np.flatnonzero(lengths < tol)
    return int(short[0]) if short.size else None
'''
        },
        "test_stall_function_values",
        "one step too early",
        "02-a",
    ),
    "rmsprop-sum-instead-of-average": Mistake(
        "03_rmsprop",
        {
            "ema_of_squares": '''
def ema_of_squares(grads, rho):
    return np.cumsum(grads * grads, axis=0)
'''
        },
        "test_average_values",
        "summed, as AdaGrad does",
        "03-a",
    ),
    "rmsprop-decay-exponent-off-by-one": Mistake(
        "03_rmsprop",
        {
            "ema_of_squares": '''
def ema_of_squares(grads, rho):
    steps = np.arange(1, len(grads) + 1)
    lags = steps[:, None] - steps[None, :] + 1
    weights = np.where(lags >= 1, (1 - rho) * rho ** np.maximum(lags, 0), 0.0)
    return weights @ (grads * grads)
'''
        },
        "test_average_values",
        "one factor of rho too many",
        "03-b",
    ),
    "rmsprop-eps-inside-root": Mistake(
        "03_rmsprop",
        {
            "rmsprop_step": '''
def rmsprop_step(theta, E, g, lr, rho=0.9, eps=1e-8):
    E_new = rho * E + (1 - rho) * g * g
    return theta - lr * g / np.sqrt(E_new + eps), E_new
'''
        },
        "test_step_values",
        "inside the square root",
        "03-a",
    ),
    "rmsprop-average-updated-in-place": Mistake(
        "03_rmsprop",
        {
            "rmsprop_step": '''
def rmsprop_step(theta, E, g, lr, rho=0.9, eps=1e-8):
    E *= rho
    E += (1 - rho) * g * g
    return theta - lr * g / (np.sqrt(E) + eps), E
'''
        },
        "test_step_keeps_inputs",
        "changed the array E",
        "03-b",
    ),
}


def answer_cell(notebook: nbformat.NotebookNode, name: str) -> int:
    """Return the index of the one answer cell that defines ``name``."""
    pattern = re.compile(rf"^(def {name}\(|{name} = )", re.MULTILINE)
    found = [
        index
        for index, cell in enumerate(notebook.cells)
        if ANSWER_TAG in cell.metadata.get("tags", []) and pattern.search(cell.source)
    ]
    assert len(found) == 1, f"expected one answer cell defining {name}, found {found}"
    return found[0]


def fill_answers(
    student: nbformat.NotebookNode,
    solutions: nbformat.NotebookNode,
    replacements: dict[str, str],
) -> nbformat.NotebookNode:
    """Return the student notebook with every answer cell filled in.

    Each answer cell gets the reference code of the same cell of the
    autograder notebook, and then the cells named in ``replacements`` get
    that code instead. otter assign writes both notebooks from one source, so
    their cells correspond one to one.
    """
    assert len(student.cells) == len(solutions.cells)
    filled = copy.deepcopy(student)
    for cell, solution in zip(filled.cells, solutions.cells):
        if ANSWER_TAG in cell.metadata.get("tags", []):
            cell.source = solution.source
    for name, source in replacements.items():
        filled.cells[answer_cell(filled, name)].source = source.strip("\n")
    return filled


def case_functions(autograder: Path) -> dict[str, str]:
    """Map otter's test case names ("q1_accumulate - 2") to test function names.

    otter numbers the cases of a question in the order its test file defines
    them, so the n-th ``def test_...`` of ``tests/QUESTION.py`` is case n.
    """
    names = {}
    with zipfile.ZipFile(autograder) as archive:
        for member in archive.namelist():
            if not (member.startswith("tests/") and member.endswith(".py")):
                continue
            question = Path(member).stem
            source = archive.read(member).decode("utf-8")
            functions = re.findall(r"^def (test_\w+)\(", source, flags=re.MULTILINE)
            for number, function in enumerate(functions, start=1):
                names[f"{question} - {number}"] = function
    return names


def cases_by_function(result: dict, functions: dict[str, str]) -> dict[str, dict]:
    """Return the graded cases of ``result`` keyed by test function name."""
    return {
        functions[case["name"]]: case
        for question in result["questions"].values()
        for case in question["cases"]
    }


@dataclass
class Grading:
    """Built assignments and the futures of every notebook being graded."""

    outputs: dict[str, Path]
    functions: dict[str, dict[str, str]]
    references: dict = field(default_factory=dict)
    mistakes: dict = field(default_factory=dict)
    samples: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def grading(tmp_path_factory):
    """Build every assignment once and grade every notebook of this module."""
    build_dir = tmp_path_factory.mktemp("assignments")
    submissions = tmp_path_factory.mktemp("submissions")
    with grading_pool() as pool:
        builds = {
            name: pool.submit(grade_assignments.build, name, build_dir, False)
            for name in ASSIGNMENTS
        }
        outputs = {name: future.result() for name, future in builds.items()}
        zips = {
            name: grade_assignments.autograder_zip(output)
            for name, output in outputs.items()
        }
        state = Grading(
            outputs=outputs,
            functions={name: case_functions(path) for name, path in zips.items()},
        )

        def submit(notebook: Path, name: str):
            return pool.submit(
                grade_assignments.grade_submission, str(notebook), str(zips[name])
            )

        for name, output in outputs.items():
            state.references[name] = submit(output / "autograder" / f"{name}.ipynb", name)
        for notebook, (name, answers) in mistake_notebooks().items():
            output = outputs[name]
            filled = fill_answers(
                nbformat.read(output / "student" / f"{name}.ipynb", 4),
                nbformat.read(output / "autograder" / f"{name}.ipynb", 4),
                answers,
            )
            # One folder per notebook, because an assignment's notebooks share
            # one file name.
            path = submissions / notebook / f"{name}.ipynb"
            path.parent.mkdir()
            nbformat.write(filled, path)
            state.mistakes[notebook] = submit(path, name)
        for name in ASSIGNMENTS:
            for sample in sorted((grade_assignments.SAMPLES / name).glob("*.ipynb")):
                state.samples[name, sample.stem] = submit(sample, name)
        yield state


def grading_pool():
    return grade_assignments.grading_pool(JOBS)


def mistake_notebooks() -> dict[str, tuple[str, dict[str, str]]]:
    """Return each graded notebook's assignment and its wrong answers, merged."""
    notebooks: dict[str, tuple[str, dict[str, str]]] = {}
    for key, mistake in MISTAKES.items():
        name, answers = notebooks.setdefault(mistake.notebook, (mistake.assignment, {}))
        assert name == mistake.assignment, f"{key} shares a notebook of {name}"
        assert not answers.keys() & mistake.answers.keys(), (
            f"{key} replaces an answer that another mistake of notebook "
            f"{mistake.notebook} replaces too"
        )
        answers.update(mistake.answers)
    return notebooks


def solution_lines(source: nbformat.NotebookNode) -> list[str]:
    """Return the stripped code lines of a source notebook that only solutions hold.

    These are the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION``
    comments and the lines that end with ``# SOLUTION``.
    """
    lines = []
    for cell in source.cells:
        if cell.cell_type != "code":
            continue
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped == "# BEGIN SOLUTION":
                inside = True
            elif stripped == "# END SOLUTION":
                inside = False
            elif inside and stripped and not stripped.startswith("#"):
                lines.append(stripped)
            elif stripped.endswith("# SOLUTION"):
                lines.append(stripped.removesuffix("# SOLUTION").strip())
    return lines


def student_notebook(grading: Grading, name: str) -> nbformat.NotebookNode:
    return nbformat.read(grading.outputs[name] / "student" / f"{name}.ipynb", 4)


def test_three_assignments_exist():
    assert len(ASSIGNMENTS) >= 3, f"expected at least three sources, found {ASSIGNMENTS}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_reference_passes_every_case(grading, name):
    result = grading.references[name].result(timeout=GRADING_TIMEOUT)
    failed = {
        function: case["message"]
        for function, case in cases_by_function(result, grading.functions[name]).items()
        if not case["passed"]
    }
    assert result["error"] is None, result["error"]
    assert not failed, f"the reference solutions of {name} fail: {failed}"
    assert result["score"] == result["possible"]
    assert result["possible"] > 0


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_reference_passes_float32_cases(grading, name):
    result = grading.references[name].result(timeout=GRADING_TIMEOUT)
    cases = cases_by_function(result, grading.functions[name])
    float32 = [function for function in cases if "float32" in function]
    assert float32, f"{name} has no test case with float32 inputs"
    for function in float32:
        assert cases[function]["passed"], cases[function]["message"]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_version_has_no_solution_lines(grading, name):
    source = nbformat.read(grade_assignments.SOURCES / f"{name}.ipynb", 4)
    solutions = solution_lines(source)
    student = student_notebook(grading, name)
    student_lines = {
        line.strip() for cell in student.cells for line in cell.source.splitlines()
    }
    assert solutions, f"found no solution lines in the source of {name}"
    leaked = [line for line in solutions if line in student_lines]
    assert not leaked, f"the student version of {name} contains solution lines: {leaked}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_version_has_no_markers(grading, name):
    text = json.dumps(student_notebook(grading, name))
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "# SOLUTION", "BEGIN TEST"):
        assert marker not in text, f"the student version of {name} contains {marker!r}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_version_has_no_hidden_tests(grading, name):
    student = student_notebook(grading, name)
    tests = student.metadata["otter"]["tests"]
    public = "\n".join(tests.values())
    hidden = {
        function
        for function in grading.functions[name].values()
        if f"def {function}(" not in public
    }
    assert "hidden=True" not in public
    assert hidden, f"{name} has no hidden test cases"
    text = json.dumps(student)
    for function in hidden:
        assert function not in text, f"the student version of {name} names {function}"
    assert [p.name for p in (grading.outputs[name] / "student").iterdir()] == [
        f"{name}.ipynb"
    ]


@pytest.mark.parametrize("key", MISTAKES)
def test_mistake_loses_points(grading, key):
    mistake = MISTAKES[key]
    result = grading.mistakes[mistake.notebook].result(timeout=GRADING_TIMEOUT)
    assert result["error"] is None, result["error"]
    assert result["score"] < result["possible"]


@pytest.mark.parametrize("key", MISTAKES)
def test_mistake_fails_named_case(grading, key):
    mistake = MISTAKES[key]
    result = grading.mistakes[mistake.notebook].result(timeout=GRADING_TIMEOUT)
    case = cases_by_function(result, grading.functions[mistake.assignment])[mistake.test]
    assert not case["passed"], f"{mistake.test} passed although the answer is wrong"


@pytest.mark.parametrize("key", MISTAKES)
def test_mistake_message_names_it(grading, key):
    mistake = MISTAKES[key]
    result = grading.mistakes[mistake.notebook].result(timeout=GRADING_TIMEOUT)
    case = cases_by_function(result, grading.functions[mistake.assignment])[mistake.test]
    assert mistake.message in case["message"], case["message"]


def expected_scores() -> dict:
    return json.loads(grade_assignments.EXPECTED_SCORES.read_text(encoding="utf-8"))


SAMPLES = [
    (name, sample.stem)
    for name in ASSIGNMENTS
    for sample in sorted((grade_assignments.SAMPLES / name).glob("*.ipynb"))
]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_samples_cover_each_kind(name):
    stems = {stem for assignment, stem in SAMPLES if assignment == name}
    assert {"correct", "wrong", "empty"} <= stems


@pytest.mark.parametrize(("name", "sample"), SAMPLES)
def test_sample_score_as_expected(grading, name, sample):
    result = grading.samples[name, sample].result(timeout=GRADING_TIMEOUT)
    assert result["error"] is None, result["error"]
    assert result["score"] == expected_scores()[name][sample]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_correct_sample_full_marks(grading, name):
    result = grading.samples[name, "correct"].result(timeout=GRADING_TIMEOUT)
    assert result["score"] == result["possible"]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_empty_sample_scores_zero(grading, name):
    result = grading.samples[name, "empty"].result(timeout=GRADING_TIMEOUT)
    assert result["score"] == 0
    assert result["possible"] > 0


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_wrong_sample_partial_marks(grading, name):
    result = grading.samples[name, "wrong"].result(timeout=GRADING_TIMEOUT)
    assert 0 < result["score"] < result["possible"]


SCRIPT = ROOT / "scripts" / "grade_assignments.py"
# Time limit of the timeout test, in seconds. Grading one sample took 8 to 10
# seconds on a two-core machine under load, kernel start included.
SHORT_TIMEOUT = 30


def hanging_notebook(pid_file: Path) -> nbformat.NotebookNode:
    """Return the correct sample of 01_adagrad_step with a never-ending cell.

    The cell writes its kernel's process id to ``pid_file`` first, so that a
    test can check that the kernel was killed.
    """
    notebook = nbformat.read(grade_assignments.SAMPLES / "01_adagrad_step" / "correct.ipynb", 4)
    source = (
        "import os, time\n"
        f"with open({str(pid_file)!r}, 'w') as handle:\n"
        "    handle.write(str(os.getpid()))\n"
        "while True:\n"
        "    time.sleep(1)"
    )
    notebook.cells.insert(1, nbformat.v4.new_code_cell(source))
    return notebook


def test_grade_times_out_hanging_submission(grading, tmp_path):
    name = "01_adagrad_step"
    folder = tmp_path / "submissions"
    folder.mkdir()
    for sample in ("correct", "empty"):
        shutil.copy(grade_assignments.SAMPLES / name / f"{sample}.ipynb", folder)
    pid_file = tmp_path / "kernel.pid"
    nbformat.write(hanging_notebook(pid_file), folder / "hang.ipynb")
    csv_path = tmp_path / "grades.csv"
    command = [
        sys.executable,
        str(SCRIPT),
        "--build-dir",
        str(grading.outputs[name].parent),
        "grade",
        name,
        str(folder),
        "-o",
        str(csv_path),
        "--jobs",
        "2",
        "--timeout",
        str(SHORT_TIMEOUT),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        first_line = process.stdout.readline()
        # The other submissions are graded before the hanging one times out,
        # so their lines must be printed while the command still runs.
        running_after_first_line = process.poll() is None
        stdout, _ = process.communicate(timeout=10 * SHORT_TIMEOUT)
    finally:
        process.kill()
    lines = {line.split()[0]: line for line in [first_line, *stdout.splitlines()] if line}
    reference = grading.references[name].result(timeout=GRADING_TIMEOUT)
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = {row["file"]: row for row in csv.DictReader(handle)}

    assert running_after_first_line, "the first score was printed only at the end"
    assert process.returncode == 1
    assert f"not graded: timed out after {SHORT_TIMEOUT} s" in lines["hang.ipynb"]
    assert "17.00 /  17.00" in lines["correct.ipynb"], lines["correct.ipynb"]
    assert "not graded" not in lines["empty.ipynb"], lines["empty.ipynb"]
    assert float(rows["correct.ipynb"]["score"]) == reference["possible"]
    assert float(rows["hang.ipynb"]["score"]) == 0
    assert float(rows["hang.ipynb"]["possible"]) == reference["possible"]
    assert rows["hang.ipynb"]["error"] == f"timed out after {SHORT_TIMEOUT} s"
    kernel_pid = int(pid_file.read_text())
    assert not psutil.pid_exists(kernel_pid), "the hanging kernel is still running"


def test_assignment_total_matches_grading(grading):
    for name in ASSIGNMENTS:
        result = grading.references[name].result(timeout=GRADING_TIMEOUT)
        zip_path = grade_assignments.autograder_zip(grading.outputs[name])
        assert grade_assignments.assignment_total(zip_path) == result["possible"]


def test_grade_unknown_assignment_exits_2(capsys):
    assert grade_assignments.main(["grade", "no_such_assignment", "subs"]) == 2
    captured = capsys.readouterr()
    assert "no assignment 'no_such_assignment'" in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["grade", "01_adagrad_step", "subs", "--jobs", "0"],
        ["--jobs", "0", "grade", "01_adagrad_step", "subs"],
        ["samples", "--jobs", "0"],
    ],
)
def test_jobs_accepted_either_side(argv, capsys):
    # --jobs 0 is rejected after parsing, which shows that the value given
    # on either side of the subcommand reaches the check, before any grading.
    with pytest.raises(SystemExit) as exit_info:
        grade_assignments.main(argv)
    assert exit_info.value.code == 2
    assert "--jobs must be >= 1, got 0" in capsys.readouterr().err


def test_logging_server_port_is_not_ephemeral():
    (host, port), stop = grade_assignments.start_logging_server()
    try:
        assert port in grade_assignments.LOGGING_PORTS
        assert port not in grade_assignments.ephemeral_ports()
    finally:
        stop()


def test_logging_server_exits_after_foreign_client():
    # The first bytes of a ZeroMQ greeting, as a kernel client sends them, read
    # as a log record length of about 4e9 made otter's receiver loop forever.
    code = (
        "import socket, sys\n"
        f"sys.path.insert(0, {str(grade_assignments.ROOT / 'scripts')!r})\n"
        "import grade_assignments\n"
        "(host, port), stop = grade_assignments.start_logging_server()\n"
        "client = socket.create_connection((host, port))\n"
        "client.sendall(b'\\xff' + b'\\x00' * 8 + b'\\x7f')\n"
        "client.close()\n"
        "stop()\n"
        "print('exiting')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "exiting"
