# SPDX-License-Identifier: GPL-2.0
"""Strict parser of the rig's KTAP results (python3, stdlib only).

  parse(text, expected=None) -> Report
  parse_file(path, expected=None) -> Report
  summarise_ktap(path, expected=None) -> (passed, failed, skipped, bad)

A Report has passed, failed, skipped (counts over the whole text), bad
(one human-readable string per failure, so len(bad) == failed) and tests:
one Test per top-level result, with name, number, ok, directive (the text
after "#", or ""), and passed, failed, skipped, bad counted over that
result's subtest, or over the result itself if it is a leaf.

Lines
  After its indentation (leading spaces only), a KTAP line is one of
    "KTAP version N" or "TAP version N"         a version line
    "1..N [# directive]"                        a plan
    "ok N [- ]description [# directive]"        a result ("not ok" too)
    "Bail out! [reason]"                        a bail out
  Every other line (free output, "# " diagnostics, garbage) is ignored.
  A directive starts at the first "#" that begins a word.

Nesting
  Indentation gives nesting.  A result closes the subtest made of the
  more-indented KTAP lines since the previous KTAP line at its level or
  above.  More-indented lines that no result closes (a shallower line
  that is not a result, or the end of the text, comes first) are a
  subtest with no result line: one failure, and its results still count.
  A result or subtest nested deeper than MAX_DEPTH subtests is one
  failure, and what it holds is not counted.

Documents
  A version line starts a new document at its indentation, so documents
  may be concatenated at one level (each of kunit's debugfs results files
  is a whole document with "1..1").  KTAP lines at a level before any
  version line form a document too.  A plan applies to the results of
  its own document.

Results
  The verdict of a result: a TIMEOUT directive is a failure whatever ok
  says; else a SKIP directive (ok or not ok) is a skip; "not ok" with a
  TODO directive is a skip; else "not ok" is a failure, and "ok" a pass
  ("ok ... # XFAIL" and "ok ... # TODO" included).  Directive words are
  matched without regard to case.
  A result whose subtest counted nothing (it has none, or one of version
  lines only) is a leaf: its verdict counts exactly once.  Free output
  and diagnostics before a result are no subtest.
  Any other result is a parent: its subtest's counts are its counts and
  it does not count itself, except that
  - a parent whose verdict is a failure counts one failure when its
    subtest counted no failure (of a result, plan, number or bail out):
    a suite whose set-up failed is not lost;
  - a parent with a TIMEOUT directive counts one failure in any case;
  - a parent whose verdict is a skip counts one skip when its subtest
    counted no skip: a test that prints sub-results, then exits with the
    skip code, is a skip, not nothing.
  So a parent "ok" whose children failed counts their failures: nothing
  hides.

Plans
  Every document that has results must have exactly one plan "1..N",
  before or after its results: a missing plan is one failure, so is a
  second one, and so is an N that differs from the number of results of
  the document.  "1..0" (with or without "# SKIP reason") in a document
  with no results is one skip.  A document that bailed out is not held
  to its plan.
  Result numbers within a document must run 1, 2, 3...: each result
  whose number is not the one before it plus one is one failure.

Bail out
  "Bail out!" at any level is one failure.

Expected tests
  Each name of expected must be the name of a top-level result, in the
  order of expected; other top-level results may come between them and
  count as any other.  A name with no top-level result is one failure
  ("NAME: no result"); one found only before the previous expected name
  is one failure ("NAME: out of order").

No results
  A text in which nothing counted is one failure ("no results"); a
  missing or empty file is one failure ("PATH: no results").  These come
  in addition to the failures of the expected tests.

Nothing in the text, however garbled, makes the parser raise.
"""

import re

MAX_DEPTH = 32

_KINDS = (
    ('version', re.compile(r'K?TAP version (\d+)\s*$')),
    ('plan', re.compile(r'1\.\.(\d+)\s*(?:#\s*(.*?))?\s*$')),
    ('result', re.compile(r'(not ok|ok)\s+(\d+)(?:\s+(.*?))?\s*$')),
    ('bail', re.compile(r'Bail out!\s*(.*?)\s*$')),
)
_DIRECTIVE_START = re.compile(r'(?:^|\s)#')
_KEYWORD = re.compile(r'(SKIP|TODO|XFAIL|TIMEOUT)\b', re.IGNORECASE)

PASS, FAIL, SKIP = 'pass', 'fail', 'skip'


class Counts:
    """Passes, failures (one string of bad each) and skips."""

    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.bad = []

    def count(self, verdict, message):
        if verdict == PASS:
            self.passed += 1
        elif verdict == SKIP:
            self.skipped += 1
        else:
            self.fail(message)

    def fail(self, message):
        self.failed += 1
        self.bad.append(message)

    def skip(self):
        self.skipped += 1

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.bad += other.bad

    def total(self):
        return self.passed + self.failed + self.skipped

    def __repr__(self):
        return (f'{type(self).__name__}(passed={self.passed}, '
                f'failed={self.failed}, skipped={self.skipped})')


class Test(Counts):
    """One top-level result and the counts of its subtest."""

    def __init__(self, result):
        super().__init__()
        self.name = result.name
        self.number = result.number
        self.ok = result.ok
        self.directive = result.directive
        self.add(result.counts)


class Report(Counts):
    """The counts of a whole text, and its top-level tests."""

    def __init__(self):
        super().__init__()
        self.tests = []


# The tree: documents hold plans and items (results, subtests with no
# result line, failures such as bail outs); results hold their subtest,
# a list of documents.  An item's depth is how many subtests deep it
# goes, at most MAX_DEPTH.

def _depth(docs):
    return 1 + max((doc.depth for doc in docs), default=0)


class _Line:
    def __init__(self, lineno, indent, kind, text, match):
        self.lineno = lineno
        self.indent = indent
        self.kind = kind
        self.text = text
        self.match = match


class _Document:
    def __init__(self):
        self.lineno = None
        self.version = None
        self.plans = []
        self.items = []
        self.bailed_out = False
        self.depth = 0

    def empty(self):
        return not (self.version or self.plans or self.items)

    def append(self, item):
        """Append an item, or a failure if it nests too deep."""
        if item.depth > MAX_DEPTH:
            item = _Failure(item.lineno, f'nested deeper than {MAX_DEPTH} '
                            f'levels at line {item.lineno}')
        self.items.append(item)
        self.depth = max(self.depth, item.depth)

    def results(self):
        return [i for i in self.items if isinstance(i, _Result)]


class _Result:
    def __init__(self, line, subtest):
        ok, number, rest = line.match.groups()
        self.lineno = line.lineno
        self.text = line.text
        self.ok = ok == 'ok'
        self.number = int(number)
        self.name, self.directive = _split_directive(rest or '')
        keyword = _KEYWORD.match(self.directive)
        self.keyword = keyword.group(1).upper() if keyword else ''
        self.subtest = subtest
        self.depth = _depth(subtest) if subtest else 0
        self.counts = None


class _Orphan:
    """A subtest that no result line closed."""

    def __init__(self, docs):
        self.lineno = min((d.lineno for d in docs if d.lineno), default=0)
        self.docs = docs
        self.depth = _depth(docs)


class _Failure:
    """A line that is one failure by itself (a bail out, say)."""

    def __init__(self, lineno, message):
        self.lineno = lineno
        self.message = message
        self.depth = 0


class _Frame:
    """The documents at one indentation while it is open."""

    def __init__(self, indent):
        self.indent = indent
        self.docs = [_Document()]

    def doc(self):
        return self.docs[-1]


def _split_directive(rest):
    """Split "- name # SKIP why" into ("name", "SKIP why")."""
    m = _DIRECTIVE_START.search(rest)
    name, directive = (rest[:m.start()], rest[m.end():]) if m else (rest, '')
    name = name.strip()
    if name.startswith('- '):
        name = name[2:].lstrip()
    return name, directive.strip()


def _ktap_lines(text):
    """Yield a _Line for each KTAP line of text; skip all other lines."""
    for lineno, raw in enumerate(text.splitlines(), 1):
        body = raw.lstrip(' ')
        for kind, pattern in _KINDS:
            m = pattern.match(body)
            if m:
                yield _Line(lineno, len(raw) - len(body), kind,
                            body.strip(), m)
                break


def _close_deeper(stack, indent):
    """Close the frames deeper than indent; return the shallowest's docs.

    Each closed frame but the shallowest was not closed by a result at
    the level of the frame under it: it is an orphan there.
    """
    closed = None
    while stack[-1].indent > indent:
        frame = stack.pop()
        if closed is not None:
            frame.doc().append(_Orphan(closed))
        closed = frame.docs
    return closed


def _add_line(frame, line, subtest):
    """Add a KTAP line to the frame at its indentation."""
    if subtest and line.kind != 'result':
        frame.doc().append(_Orphan(subtest))
    if line.kind == 'version' and not frame.doc().empty():
        frame.docs.append(_Document())
    doc = frame.doc()
    if doc.lineno is None:
        doc.lineno = line.lineno
    if line.kind == 'version':
        doc.version = line
    elif line.kind == 'plan':
        doc.plans.append(line)
    elif line.kind == 'result':
        doc.append(_Result(line, subtest or []))
    else:
        doc.append(_Failure(line.lineno, line.text))
        doc.bailed_out = True


def _build(lines):
    """Turn KTAP lines into the list of top-level documents."""
    stack = [_Frame(0)]
    for line in lines:
        subtest = _close_deeper(stack, line.indent)
        if stack[-1].indent < line.indent:
            stack.append(_Frame(line.indent))
        _add_line(stack[-1], line, subtest)
    leftover = _close_deeper(stack, 0)
    if leftover:
        stack[0].doc().append(_Orphan(leftover))
    return stack[0].docs


def _verdict(result):
    if result.keyword == 'TIMEOUT':
        return FAIL
    if result.keyword == 'SKIP' or (result.keyword == 'TODO'
                                    and not result.ok):
        return SKIP
    return PASS if result.ok else FAIL


def _failure_message(result):
    if result.keyword == 'TIMEOUT':
        return f'{result.name}: {result.directive}'
    return result.text


def _count_result(result):
    """Count a result and its subtest; keep the counts on the result."""
    counts = _count_documents(result.subtest, result.name or result.text)
    verdict = _verdict(result)
    if counts.total() == 0:
        counts.count(verdict, _failure_message(result))
    elif verdict == FAIL and (result.keyword == 'TIMEOUT'
                              or not counts.failed):
        counts.fail(_failure_message(result))
    elif verdict == SKIP and not counts.skipped:
        counts.skip()
    result.counts = counts
    return counts


def _count_orphan(orphan, where):
    counts = _count_documents(orphan.docs, where)
    counts.fail(f'subtest at line {orphan.lineno} has no result line '
                f'(in {where})')
    return counts


def _count_item(item, where):
    if isinstance(item, _Result):
        return _count_result(item)
    if isinstance(item, _Orphan):
        return _count_orphan(item, where)
    counts = Counts()
    counts.fail(item.message)
    return counts


def _check_plan(doc, where, counts):
    """Hold a document to its plan."""
    results = len(doc.results())
    if not doc.plans:
        if results:
            counts.fail(f'no plan in {where}')
        return
    if len(doc.plans) > 1:
        counts.fail(f'{len(doc.plans)} plans in {where}')
    planned = int(doc.plans[0].match.group(1))
    if planned == 0 and results == 0:
        counts.skip()
    elif planned != results:
        counts.fail(f'plan 1..{planned} but {results} results in {where}')


def _check_numbers(doc, where, counts):
    """Results must be numbered 1, 2, 3... within their document."""
    previous = 0
    for result in doc.results():
        if result.number != previous + 1:
            counts.fail(f'result number {result.number}, expected '
                        f'{previous + 1}, in {where}: {result.text}')
        previous = result.number


def _count_document(doc, where):
    counts = Counts()
    for item in doc.items:
        counts.add(_count_item(item, where))
    if not doc.bailed_out:
        _check_plan(doc, where, counts)
    _check_numbers(doc, where, counts)
    return counts


def _count_documents(docs, where):
    counts = Counts()
    for doc in docs:
        counts.add(_count_document(doc, where))
    return counts


def _check_expected(report, expected):
    """Each expected name must be a top-level result, in that order."""
    names = [t.name for t in report.tests]
    position = 0
    for name in expected:
        if name in names[position:]:
            position = names.index(name, position) + 1
        elif name in names:
            report.fail(f'{name}: out of order')
        else:
            report.fail(f'{name}: no result')


def _parse(text, expected, no_results):
    report = Report()
    for doc in _build(_ktap_lines(text)):
        report.add(_count_document(doc, 'top level'))
        report.tests += [Test(r) for r in doc.results()]
    if report.total() == 0:
        report.fail(no_results)
    _check_expected(report, expected or [])
    return report


def parse(text, expected=None):
    """Count the results of KTAP text; see the module's docstring."""
    return _parse(text, expected, 'no results')


def parse_file(path, expected=None):
    """parse() the file at path; a missing or empty one has no results."""
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            text = f.read()
    except OSError:
        text = ''
    return _parse(text, expected, f'{path}: no results')


def summarise_ktap(path, expected=None):
    """parse_file() as the tuple (passed, failed, skipped, bad)."""
    r = parse_file(path, expected)
    return r.passed, r.failed, r.skipped, r.bad
