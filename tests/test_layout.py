"""Layout of the sources: no file over 500 lines, no function with more than 80 lines of code; and no benchmark
script or test file over 500 lines (their functions are not measured).

A long file or function is allowed only with a stated reason, in the lists below.  An entry whose file or function
no longer exceeds its limit (or is gone) must leave the list, so the list never hides new growth."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "src" / "ftrlx"
SCRIPT_FOLDERS = ("bench", "tests")  # their *.py files keep to MAX_FILE_LINES
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80
SOURCE_SUFFIXES = (".py", ".pyx", ".pxd", ".pxi", ".tp")

# path below src/ftrlx -> why it may be longer than MAX_FILE_LINES
LONG_FILES = {}

# "path::qualified.name" -> why the function may have more than MAX_FUNCTION_LINES lines of code
LONG_FUNCTIONS = {}

# path below the repository (one of SCRIPT_FOLDERS) -> why it may be longer than MAX_FILE_LINES
LONG_SCRIPTS = {}


def _sources(root):
    return sorted(p for p in root.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file())


def _n_lines(path):
    with open(path, "rb") as fh:
        return sum(1 for _ in fh)


def _docstring_lines(node):
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            return body[0].end_lineno - body[0].lineno + 1
    return 0


def _functions(tree):
    """``(qualified name, lines of code)`` of every function and method, nested ones included; a function's lines
    run from its ``def`` to its last line, less those of its docstring."""
    out = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                out.append((name, child.end_lineno - child.lineno + 1 - _docstring_lines(child)))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return out


def measure(root):
    """``({path: lines}, {"path::function": lines of code})`` of every source file below ``root`` (paths relative
    to it, with forward slashes)."""
    files, functions = {}, {}
    for path in _sources(root):
        rel = path.relative_to(root).as_posix()
        files[rel] = _n_lines(path)
        if path.suffix == ".py":
            for name, n in _functions(ast.parse(path.read_bytes(), filename=str(path))):
                functions[f"{rel}::{name}"] = n
    return files, functions


def _file_problems(files, long_files, list_name):
    """The files of ``{path: lines}`` over MAX_FILE_LINES without an entry in ``long_files``, and the entries of
    ``long_files`` that are no longer needed."""
    problems = [
        f"{rel} has {n} lines (at most {MAX_FILE_LINES}): split it by job"
        for rel, n in files.items()
        if n > MAX_FILE_LINES and rel not in long_files
    ]
    return problems + [
        f"{rel} is allowed to be long but now has {files.get(rel, 0)} lines: remove it from {list_name}"
        for rel in long_files
        if files.get(rel, 0) <= MAX_FILE_LINES
    ]


def violations(root, long_files, long_functions):
    """What breaks the limits without an entry in the allow-lists, and the entries that are no longer needed."""
    files, functions = measure(root)
    problems = _file_problems(files, long_files, "LONG_FILES")
    problems += [
        f"{key} has {n} lines of code (at most {MAX_FUNCTION_LINES}): split it into named steps"
        for key, n in functions.items()
        if n > MAX_FUNCTION_LINES and key not in long_functions
    ]
    problems += [
        f"{key} is allowed to be long but now has {functions.get(key, 0)} lines of code: remove it from LONG_FUNCTIONS"
        for key in long_functions
        if functions.get(key, 0) <= MAX_FUNCTION_LINES
    ]
    return problems


def script_violations(root, long_scripts, folders=SCRIPT_FOLDERS):
    """The ``*.py`` files directly in ``folders`` of ``root`` over MAX_FILE_LINES without an entry in
    ``long_scripts`` (paths relative to ``root``), and the entries that are no longer needed."""
    files = {
        f"{folder}/{path.name}": _n_lines(path) for folder in folders for path in sorted((root / folder).glob("*.py"))
    }
    return _file_problems(files, long_scripts, "LONG_SCRIPTS")


def test_files_and_functions_keep_to_the_limits():
    assert violations(PACKAGE, LONG_FILES, LONG_FUNCTIONS) == []


def test_benchmark_scripts_and_test_files_keep_to_the_file_limit():
    assert script_violations(REPO, LONG_SCRIPTS) == []


def test_every_allowed_exception_states_its_reason():
    for key, reason in {**LONG_FILES, **LONG_FUNCTIONS, **LONG_SCRIPTS}.items():
        assert isinstance(reason, str) and reason.strip(), key


def _write_function(path, name, n_code, docstring_lines=0):
    doc = ['    """'] + ["    text"] * max(docstring_lines - 2, 0) + ['    """'] if docstring_lines else []
    path.write_text("\n".join([f"def {name}():", *doc] + ["    x = 1"] * (n_code - 2) + ["    return x", ""]))


@pytest.mark.parametrize("suffix", SOURCE_SUFFIXES)
def test_a_file_past_the_limit_is_caught(tmp_path, suffix):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / f"fits{suffix}").write_text("x = 1\n" * MAX_FILE_LINES)
    assert violations(tmp_path, {}, {}) == []
    (tmp_path / "sub" / f"grown{suffix}").write_text("x = 1\n" * (MAX_FILE_LINES + 1))
    assert violations(tmp_path, {}, {}) == [
        f"sub/grown{suffix} has {MAX_FILE_LINES + 1} lines (at most 500): split it by job"
    ]
    assert violations(tmp_path, {f"sub/grown{suffix}": "reason"}, {}) == []


def test_a_function_past_the_limit_is_caught_and_its_docstring_does_not_count(tmp_path):
    _write_function(tmp_path / "m.py", "fits", MAX_FUNCTION_LINES, docstring_lines=30)
    assert measure(tmp_path)[1] == {"m.py::fits": MAX_FUNCTION_LINES}
    assert violations(tmp_path, {}, {}) == []
    _write_function(tmp_path / "m.py", "grown", MAX_FUNCTION_LINES + 1)
    assert violations(tmp_path, {}, {}) == ["m.py::grown has 81 lines of code (at most 80): split it into named steps"]
    assert violations(tmp_path, {}, {"m.py::grown": "reason"}) == []


def test_methods_and_nested_functions_are_measured_by_their_qualified_names(tmp_path):
    body = "\n".join(["            y = 2"] * (MAX_FUNCTION_LINES + 5))
    (tmp_path / "m.py").write_text(f"class A:\n    def f(self):\n        def g():\n{body}\n        return g\n")
    _, functions = measure(tmp_path)
    assert functions["m.py::A.f.g"] == MAX_FUNCTION_LINES + 6
    assert functions["m.py::A.f"] == MAX_FUNCTION_LINES + 8
    assert sorted(violations(tmp_path, {}, {"m.py::A.f": "reason"})) == [
        f"m.py::A.f.g has {MAX_FUNCTION_LINES + 6} lines of code (at most 80): split it into named steps"
    ]


def test_an_allowed_entry_that_no_longer_exceeds_must_leave_the_list(tmp_path):
    (tmp_path / "short.py").write_text("x = 1\n")
    assert violations(tmp_path, {"short.py": "reason", "gone.pyx": "reason"}, {"short.py::f": "reason"}) == [
        "short.py is allowed to be long but now has 1 lines: remove it from LONG_FILES",
        "gone.pyx is allowed to be long but now has 0 lines: remove it from LONG_FILES",
        "short.py::f is allowed to be long but now has 0 lines of code: remove it from LONG_FUNCTIONS",
    ]


def test_a_long_benchmark_script_or_test_file_is_caught_but_not_its_long_functions(tmp_path):
    for folder in SCRIPT_FOLDERS:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "fits.py").write_text("x = 1\n" * MAX_FILE_LINES)
        _write_function(tmp_path / folder / "long_function.py", "f", MAX_FUNCTION_LINES + 10)
    (tmp_path / "bench" / "results").mkdir()
    (tmp_path / "bench" / "results" / "below.py").write_text("x = 1\n" * (MAX_FILE_LINES + 1))  # not a script
    (tmp_path / "bench" / "notes.md").write_text("x\n" * (MAX_FILE_LINES + 1))
    assert script_violations(tmp_path, {}) == []
    (tmp_path / "bench" / "grown.py").write_text("x = 1\n" * (MAX_FILE_LINES + 1))
    (tmp_path / "tests" / "test_grown.py").write_text("x = 1\n" * (MAX_FILE_LINES + 2))
    assert script_violations(tmp_path, {}) == [
        f"bench/grown.py has {MAX_FILE_LINES + 1} lines (at most 500): split it by job",
        f"tests/test_grown.py has {MAX_FILE_LINES + 2} lines (at most 500): split it by job",
    ]
    assert script_violations(tmp_path, {"bench/grown.py": "reason", "tests/test_grown.py": "reason"}) == []
    assert script_violations(tmp_path, {"bench/grown.py": "reason", "tests/fits.py": "reason"}) == [
        f"tests/test_grown.py has {MAX_FILE_LINES + 2} lines (at most 500): split it by job",
        f"tests/fits.py is allowed to be long but now has {MAX_FILE_LINES} lines: remove it from LONG_SCRIPTS",
    ]
