#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Insert the series' MAINTAINERS entries into an upstream MAINTAINERS file.

Entries are blocks separated by blank lines whose first line is the
upper-case title; each is inserted before the first upstream entry that
sorts after it, as checkpatch and get_maintainer.pl expect.
"""
import sys


def blocks(text):
    return [b.strip('\n') for b in text.split('\n\n') if b.strip()]


def main():
    target, entries = sys.argv[1], sys.argv[2]
    with open(target) as f:
        lines = f.read().split('\n')
    with open(entries) as f:
        new = [b for b in blocks(f.read())
               if not b.startswith('#') and '\n' in b]
    # Upstream entries start after the line "Maintainers List".
    start = next(i for i, l in enumerate(lines) if l.startswith('Maintainers List'))
    for block in sorted(new, key=lambda b: b.split('\n')[0]):
        title = block.split('\n')[0]
        pos = None
        for i in range(start + 1, len(lines)):
            prev_blank = lines[i - 1] == ''
            if prev_blank and lines[i] and lines[i][0].isupper() and \
                    i + 1 < len(lines) and lines[i + 1][:2] in ('M:', 'R:', 'L:', 'S:') and \
                    lines[i] > title:
                pos = i
                break
        if pos is None:
            sys.exit('insert-maintainers: no place for ' + title)
        lines[pos:pos] = block.split('\n') + ['']
    with open(target, 'w') as f:
        f.write('\n'.join(lines))


if __name__ == '__main__':
    main()
