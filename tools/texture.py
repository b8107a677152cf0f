#!/usr/bin/env python3
"""The code's texture, kept by the lint (tools/lint.sh, issue 39): no C++ file in src/ or sim/
over 800 lines, no function there over 70 lines, and every C++ file clang-format clean, except
what tools/texture_baseline.txt lists. The list only shrinks: a listed file or function may not
grow past the size recorded for it, and an entry that now fits the rule must go.

  tools/texture.py check [ROOT]       exit 1 and say what breaks a rule (file:line: rule: what)
  tools/texture.py baseline [ROOT]    print today's offenders, for the baseline file
  tools/texture.py self-test          prove each rule fires on a planted offender

Functions are found by scanning braces, not by compiling: comments, string and character
literals are blanked first, then a brace block opened in a namespace or class whose header ends
in a parameter list is a function (its lambdas and nested blocks count towards it). A function's
lines run from the line of its name to its closing brace. Python, not a clang tool: the whole
tree takes about a second, where clang-tidy's readability-function-size compiles every file.
"""

import os
import re
import subprocess
import sys
import tempfile

FILE_LINES_MAX = 800
FUNCTION_LINES_MAX = 70
SIZE_DIRS = ("src", "sim")  # where the size rules apply
FORMAT_DIRS = ("src", "sim", "tests", "fuzz", "tools")  # where clang-format's applies
BASELINE = os.path.join("tools", "texture_baseline.txt")


def cpp_files(root, dirs):
    out = []
    for d in dirs:
        for base, _, names in os.walk(os.path.join(root, d)):
            for name in names:
                if name.endswith((".cc", ".h")):
                    out.append(os.path.relpath(os.path.join(base, name), root))
    return sorted(out)


def blank_literals(text):
    """`text` with comments, strings and character literals replaced by spaces (newlines kept),
    so that braces and parentheses inside them do not count."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            open_paren = text.find("(", i + 2)
            delimiter = text[i + 2:open_paren]
            end = text.find(")" + delimiter + '"', open_paren)
            end = n if end < 0 else end + len(delimiter) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):  # not 1'000
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (min(j + 1, n) - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


SCOPE_HEADER = re.compile(r"\b(namespace|class|struct|union|enum)\b|\bextern\s*$")
INIT_LIST = re.compile(r"\)\s*(const\s*)?(noexcept\s*)?:(?!:)")


def function_name(header):
    """The name a function's header declares: the qualified identifier before its parameter
    list; a gtest macro keeps its arguments (TEST(Suite, Name))."""
    header = " ".join(header.split())
    macro = re.match(r"(TEST\w*)\s*\(([^)]*)\)", header)
    if macro:
        return f"{macro.group(1)}({', '.join(a.strip() for a in macro.group(2).split(','))})"
    depth, cut = 0, -1
    for k, ch in enumerate(header):
        if ch == "(" and depth == 0:
            cut = k
            break
        depth += ch == "<"
        depth -= ch == ">"
    before = header[:cut] if cut >= 0 else header
    name = re.findall(r"(~?[A-Za-z_][\w]*(?:::~?[A-Za-z_]\w*)*|operator\s*\S+)\s*$", before)
    return name[0] if name else before.strip()[-40:]


def functions(text):
    """(name, first line, last line) of each function defined in a namespace or class; a
    function defined in a class body is named Class::function."""
    code = blank_literals(text)
    found = []
    stack = []  # per open brace: (kind, class name) with kind scope, function, block or init
    header_start = 0  # where the text since the last ; { } at this level begins
    function_open = None  # (name, first line) of the function being read
    for k, ch in enumerate(code):
        if ch == "{":
            header = code[header_start:k]
            if any(kind == "function" for kind, _ in stack):
                stack.append(("block", ""))
            elif SCOPE_HEADER.search(header) and "(" not in header.split(":")[0]:
                declared = re.search(r"\b(?:class|struct|union)\s+(?:\w+\s+)*?(\w+)\s*(?:final\s*)?(?::|$)",
                                     header)
                stack.append(("scope", declared.group(1) if declared else ""))
            elif "(" in header and "=" not in header.replace("==", "").split("(")[0] and not (
                    INIT_LIST.search(header) and re.search(r"[\w>]\s*$", header)):
                name = function_name(header)
                classes = [c for kind, c in stack if kind == "scope" and c]
                if classes and "::" not in name and not name.startswith("TEST"):
                    name = "::".join(classes + [name])
                name_at = header.find(name.split("::")[-1].split("(")[0])
                first = code.count("\n", 0, header_start + max(name_at, 0)) + 1
                function_open = (name, first)
                stack.append(("function", ""))
            elif INIT_LIST.search(header) or "=" in header or "(" in header:
                stack.append(("init", ""))  # a brace initializer: a constructor's list, a table
            else:
                stack.append(("scope", ""))
            if stack[-1][0] != "init":
                header_start = k + 1
        elif ch == "}":
            kind = stack.pop()[0] if stack else "scope"
            if kind == "function" and function_open:
                found.append((function_open[0], function_open[1], code.count("\n", 0, k) + 1))
                function_open = None
            if kind != "init":
                header_start = k + 1
        elif ch == ";" and not (stack and stack[-1][0] == "init"):
            header_start = k + 1
    return found


def offenders(root):
    """Today's offenders: {(rule, file, name): size}."""
    out = {}
    for path in cpp_files(root, SIZE_DIRS):
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            text = f.read()
        lines = text.count("\n")
        if lines > FILE_LINES_MAX:
            out[("file", path, "-")] = lines
        for name, first, last in functions(text):
            length = last - first + 1
            if length > FUNCTION_LINES_MAX:
                key = ("function", path, name)
                out[key] = max(out.get(key, 0), length)
    files = cpp_files(root, FORMAT_DIRS)
    for start in range(0, len(files), 100):
        batch = files[start:start + 100]
        try:
            result = subprocess.run(["clang-format", "--dry-run", "--Werror", *batch], cwd=root,
                                    capture_output=True, text=True)
        except FileNotFoundError:
            sys.exit("texture: clang-format is not installed (tools/setup.sh installs it)")
        for path in sorted(set(re.findall(r"^(\S+?):\d+:\d+: error", result.stderr, re.M))):
            out[("format", path, "-")] = 0
    return out


def read_baseline(root):
    listed = {}
    path = os.path.join(root, BASELINE)
    if not os.path.exists(path):
        return listed
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) != 4 or parts[0] not in ("file", "function", "format"):
                sys.exit(f"{BASELINE}:{number}: expected RULE<TAB>FILE<TAB>NAME<TAB>SIZE")
            listed[(parts[0], parts[1], parts[2])] = int(parts[3])
    return listed


RULES = {
    "file": f"file over {FILE_LINES_MAX} lines",
    "function": f"function over {FUNCTION_LINES_MAX} lines",
    "format": "not clang-format clean (clang-format -i it)",
}


def check(root):
    now, listed = offenders(root), read_baseline(root)
    problems = []
    for (rule, path, name), size in sorted(now.items()):
        what = RULES[rule] + ("" if name == "-" else f": {name}") + (f" ({size})" if size else "")
        ceiling = listed.get((rule, path, name))
        if ceiling is None:
            problems.append(f"{path}: {what}")
        elif size > ceiling:
            problems.append(f"{path}: {what}, grown past the {ceiling} listed for it")
    for (rule, path, name) in sorted(set(listed) - set(now)):
        problems.append(f"{BASELINE}: {rule} {path} {name}: fits the rule now; remove the entry")
    for p in problems:
        print(p)
    return 0 if not problems else 1


def baseline(root):
    print("# Offenders against tools/texture.py's rules on the day they were made: each may not")
    print("# grow, and an entry goes when it fits. RULE<TAB>FILE<TAB>NAME<TAB>SIZE (lines).")
    for (rule, path, name), size in sorted(offenders(root).items()):
        print(f"{rule}\t{path}\t{name}\t{size}")
    return 0


def self_test():
    status = 0
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "src", "core"))
        os.makedirs(os.path.join(root, "tools"))
        repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with open(os.path.join(repo, ".clang-format")) as src, \
                open(os.path.join(root, ".clang-format"), "w") as dst:
            dst.write(src.read())  # the project's style, not clang-format's default
        clean = os.path.join(root, "src", "core", "clean.cc")

        def plant(text, expect):  # expect: the rule that must fire, or None for a clean file
            nonlocal status
            with open(clean, "w") as f:
                f.write(text)
            got = offenders(root)
            ok = (not got) if expect is None else any(k[0] == expect for k in got)
            print(f"self-test {'ok' if ok else 'FAILED'}: {expect or 'clean'}: {sorted(got) or 'none'}")
            status |= 0 if ok else 1

        body = "".join(f"  x += {k};\n" for k in range(67))
        fits = "namespace r {\n\nint fits(int x) {\n" + body + "  return x;\n}\n\n}  // namespace r\n"
        plant(fits, None)  # 70 lines exactly: fits
        long = fits.replace("  return x;", "  x += 1;\n  return x;")
        plant(long, "function")
        plant(fits.replace("int fits(int x) {", "int fits(int  x) {"), "format")
        big = "".join(f"int v{k} = {k};\n" for k in range(801))
        plant(big, "file")
    return status


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    root = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if command == "check":
        return check(root)
    if command == "baseline":
        return baseline(root)
    if command == "self-test":
        return self_test()
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
