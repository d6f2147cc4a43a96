#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run the KTAP fixtures through ktap.parse() and check what it counts.

  ktap_test.py [--against-old [REV]] [FIXTURE...]

Every ktap-fixtures/*.ktap (or each FIXTURE given) starts with header
lines, which the parser must ignore as diagnostics:

  # expect: passed=P failed=F skipped=S      the Report's counts (needed)
  # expected-tests: a,b,c                    passed as parse()'s expected
  # expect-bad: TEXT                         TEXT is one of Report.bad
  # expect-test: NAME passed=P failed=F skipped=S
                                             the counts of top-level NAME

Prints KTAP, one result per fixture, and exits 0 only if all match.

--against-old runs the fixtures through parse_ktap() of vsoc.py as of
REV (default HEAD), the parser that ktap.py replaces, to show which
fixtures it gets wrong; only the counts are compared.  That parser counts
"kmemleak" as an expected test whenever it is given any, so it is given
the expected tests less kmemleak; it is given the fixture without its
header lines.
"""

import argparse
import functools
import glob
import os
import re
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import ktap  # noqa: E402

COUNTS = re.compile(r'passed=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s*$')
VSOC = 'tools/testing/socemu/vsoc.py'


class Fixture:
    """A fixture file: its text and what its header expects."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        with open(path, encoding='utf-8', errors='replace') as f:
            self.text = f.read()
        self.counts = None
        self.expected = None
        self.bad = []
        self.tests = {}
        self.errors = []
        for line in self.text.splitlines():
            self._header(line)

    def _header(self, line):
        key, _, value = line.partition(':')
        value = value.strip()
        if key == '# expect':
            self.counts = counts(value)
        elif key == '# expected-tests':
            self.expected = [t for t in value.split(',') if t]
        elif key == '# expect-bad':
            self.bad.append(value)
        elif key == '# expect-test':
            name, _, rest = value.partition(' ')
            self.tests[name] = counts(rest)
            if self.tests[name] is None:
                self.errors.append(f'bad header line: {line}')

    def body(self):
        """The text less its header lines."""
        return ''.join(line for line in self.text.splitlines(True)
                       if not re.match(r'# expect(ed-tests|-\w+)?:', line))


def counts(text):
    m = COUNTS.search(text)
    return tuple(int(n) for n in m.groups()) if m else None


def show(c):
    return 'passed=%d failed=%d skipped=%d' % c if c else 'nothing'


def check_new(fixture):
    """Problems of ktap.parse() on the fixture, as strings."""
    report = ktap.parse(fixture.text, fixture.expected)
    got = (report.passed, report.failed, report.skipped)
    problems = []
    if got != fixture.counts:
        problems.append(f'got {show(got)}, expected {show(fixture.counts)}')
    if len(report.bad) != report.failed:
        problems.append(f'{len(report.bad)} bad for {report.failed} failed')
    problems += [f'no bad "{b}"' for b in fixture.bad if b not in report.bad]
    tests = {t.name: t for t in report.tests}
    for name, want in fixture.tests.items():
        t = tests.get(name)
        have = (t.passed, t.failed, t.skipped) if t else None
        if have != want:
            problems.append(f'test {name}: got {show(have)}, '
                            f'expected {show(want)}')
    if problems:
        problems += [f'bad: {b}' for b in report.bad]
    return problems


def load_old(rev):
    """parse_ktap() of vsoc.py as of rev."""
    source = subprocess.run(['git', 'show', f'{rev}:{VSOC}'], cwd=HERE,
                            capture_output=True, text=True)
    if source.returncode:
        sys.exit(f'ktap_test: git show {rev}:{VSOC}: {source.stderr}')
    module = types.ModuleType('vsoc_old')
    module.__file__ = os.path.join(HERE, 'vsoc.py')
    exec(compile(source.stdout, f'{rev}:{VSOC}', 'exec'), module.__dict__)
    if not hasattr(module, 'parse_ktap'):
        sys.exit(f'ktap_test: no parse_ktap() in {rev}:{VSOC}')
    return module.parse_ktap


def check_old(fixture, parse_ktap):
    tests = [t for t in fixture.expected or [] if t != 'kmemleak']
    with tempfile.NamedTemporaryFile('w', suffix='.ktap') as tmp:
        tmp.write(fixture.body())
        tmp.flush()
        got = tuple(parse_ktap(tmp.name, tests)[:3])
    if got == fixture.counts:
        return []
    return [f'got {show(got)}, expected {show(fixture.counts)}']


def main():
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--against-old', nargs='?', const='HEAD', metavar='REV',
                    help="check vsoc.py's old parse_ktap() instead")
    ap.add_argument('fixtures', nargs='*', default=sorted(
        glob.glob(os.path.join(HERE, 'ktap-fixtures', '*.ktap'))))
    args = ap.parse_args()
    fixtures = [Fixture(path) for path in args.fixtures]
    if args.against_old:
        old = load_old(args.against_old)
        check = functools.partial(check_old, parse_ktap=old)
        what = f'parse_ktap() of {args.against_old}:{VSOC}'
    else:
        check = check_new
        what = 'ktap.parse()'
    print('KTAP version 1')
    print(f'1..{len(fixtures)}')
    print(f'# {what} on {len(fixtures)} fixtures')
    wrong = []
    for n, fixture in enumerate(fixtures, 1):
        if fixture.counts is None:
            problems = ['no "# expect: passed=P failed=F skipped=S" line']
        else:
            problems = fixture.errors + check(fixture)
        for p in problems:
            print(f'# {fixture.name}: {p}')
        print(f'{"not ok" if problems else "ok"} {n} {fixture.name}')
        if problems:
            wrong.append(fixture.name)
    print(f'# {len(fixtures) - len(wrong)} of {len(fixtures)} fixtures '
          f'match' + (': wrong on ' + ' '.join(wrong) if wrong else ''))
    return 1 if wrong or not fixtures else 0


if __name__ == '__main__':
    sys.exit(main())
