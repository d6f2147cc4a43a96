#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the vhost-soc series as patches a maintainer can apply, and check it.

  series.py write OUTDIR   numbered patches and a cover letter in OUTDIR
  series.py check OUTDIR   write, then: every file of the repository is in
                           exactly one patch; the patches apply with git am
                           to the pristine 6.12 tree; the result is the tree
                           the build lays (so it builds: make kernel built
                           it); each patch builds on its own for the
                           directories of the C files it touches

patches/series is the series in order: a line names a patch file of
patches/ (its subject and body, and its diff to upstream files, if any);
an indented line under it names a new file of the repository that the
patch adds.  patches/cover-letter is the cover letter: its first line is
the subject, the rest the body.

The commits are made in $CACHE/series-git, a git repository of the
pristine tree (made once; a few minutes), with the author and
Signed-off-by of whoever runs this (git config user.name and
user.email).  "check" may run without an identity: it then signs as a
placeholder and says so; "write" refuses.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '../../..'))
CACHE = os.environ.get('VHOST_SOC_CACHE') or os.path.join(
    os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'),
    'vhost-soc')
PRISTINE = os.path.join(CACHE, 'pristine')
GITDIR = os.path.join(CACHE, 'series-git')
# Directories of the repository that the build lays into the tree.
LAID = ['drivers', 'include', 'Documentation', 'samples', 'tools']
BASE_ID = ('vhost-soc base', 'vhost-soc@localhost', '@0 +0000')
PLACEHOLDER = ('vhost-soc series check', 'vhost-soc-check@localhost')


def log(msg):
    print('series: ' + msg, flush=True)


def die(msg):
    sys.exit('series: ' + msg)


def run(cmd, cwd=None, env=None, check=True, capture=True, input=None):
    r = subprocess.run(cmd, cwd=cwd, env=env, text=True, input=input,
                       stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.STDOUT if capture else None)
    if check and r.returncode:
        die('%s failed (%d):\n%s' % (' '.join(cmd), r.returncode,
                                     r.stdout or ''))
    return r


def git(*args, **kw):
    return run(['git', '-C', GITDIR] + list(args), **kw)


def parse_series():
    """[(patch file, [new files])] from patches/series."""
    entries = []
    with open(os.path.join(REPO, 'patches/series')) as f:
        for line in f:
            line = line.rstrip('\n')
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            if line[0] in ' \t':
                if not entries:
                    die('patches/series: a file before any patch')
                entries[-1][1].append(line.strip())
            else:
                entries.append((line.strip(), []))
    return entries


def parse_patch(name):
    """(subject, body, has a diff) of a patch of patches/."""
    with open(os.path.join(REPO, 'patches', name)) as f:
        text = f.read()
    head, sep, rest = text.partition('\n---\n')
    if not sep:
        die('%s: no "---" line after the message' % name)
    lines = head.split('\n')
    if not lines[0].startswith('Subject: [PATCH] '):
        die('%s: the first line must be "Subject: [PATCH] ..."' % name)
    subject = lines[0][len('Subject: [PATCH] '):]
    body = '\n'.join(lines[1:]).strip('\n')
    return subject, body, 'diff --git ' in rest


def identity(required):
    def cfg(key):
        r = run(['git', '-C', REPO, 'config', key], check=False)
        return r.stdout.strip() if r.returncode == 0 else ''
    name, email = cfg('user.name'), cfg('user.email')
    if name and email:
        return name, email
    if required:
        die('no git identity: set git config user.name and user.email, '
            'which sign the patches')
    log('no git identity: signing as "%s <%s>" for the check' % PLACEHOLDER)
    return PLACEHOLDER


def ensure_base():
    """A git repository of the pristine tree, tagged "base"."""
    stamp = os.path.join(GITDIR, '.git', 'vhost-soc-base')
    with open(os.path.join(PRISTINE, 'Makefile')) as f:
        want = hashlib.sha256(f.read().encode()).hexdigest()
    if os.path.exists(stamp) and open(stamp).read() == want:
        return
    log('making a git repository of the pristine tree in %s' % GITDIR)
    shutil.rmtree(GITDIR, ignore_errors=True)
    run(['cp', '-a', PRISTINE, GITDIR])
    env = dict(os.environ, GIT_AUTHOR_NAME=BASE_ID[0],
               GIT_AUTHOR_EMAIL=BASE_ID[1], GIT_AUTHOR_DATE=BASE_ID[2],
               GIT_COMMITTER_NAME=BASE_ID[0], GIT_COMMITTER_EMAIL=BASE_ID[1],
               GIT_COMMITTER_DATE=BASE_ID[2])
    git('init', '-q')
    git('add', '-A', '-f')
    git('commit', '-q', '--no-verify', '-m',
        'Linux %s (Debian linux-source-6.12)' % kernel_version(), env=env)
    git('tag', '-f', 'base')
    with open(stamp, 'w') as f:
        f.write(want)


def kernel_version():
    v = {}
    with open(os.path.join(PRISTINE, 'Makefile')) as f:
        for line in f:
            m = re.match(r'(VERSION|PATCHLEVEL|SUBLEVEL) = (\d+)', line)
            if m:
                v[m.group(1)] = m.group(2)
    return '%s.%s.%s' % (v['VERSION'], v['PATCHLEVEL'], v['SUBLEVEL'])


def check_claims(entries):
    """Every file the build lays is added by exactly one patch."""
    ok = True
    names = set(os.listdir(os.path.join(REPO, 'patches')))
    listed = [p for p, _ in entries]
    for p in listed:
        if p not in names:
            log('patches/series lists %s, which does not exist' % p)
            ok = False
    for p in sorted(names - set(listed) - {'series', 'cover-letter'}):
        log('patches/%s is not in patches/series' % p)
        ok = False
    files = run(['git', '-C', REPO, 'ls-files', '-co', '--exclude-standard',
                 '--'] + LAID).stdout.split()
    files = [f for f in files if os.path.isfile(os.path.join(REPO, f))]
    claims = {}
    for p, adds in entries:
        for a in adds:
            claims.setdefault(a, []).append(p)
    for f in sorted(set(files) - set(claims)):
        log('%s is in no patch: list it under one in patches/series' % f)
        ok = False
    for f, ps in sorted(claims.items()):
        if f not in files:
            log('%s (added by %s) is not a file of the repository' %
                (f, ps[0]))
            ok = False
        elif len(ps) > 1:
            log('%s is added by more than one patch: %s' % (f, ', '.join(ps)))
            ok = False
    return ok


def commit_series(entries, who):
    """Commit each patch onto base, on branch "series"."""
    env = dict(os.environ, GIT_AUTHOR_NAME=who[0], GIT_AUTHOR_EMAIL=who[1],
               GIT_COMMITTER_NAME=who[0], GIT_COMMITTER_EMAIL=who[1])
    git('checkout', '-q', '-f', '-B', 'series', 'base')
    git('clean', '-q', '-fdx')
    for p, adds in entries:
        subject, body, has_diff = parse_patch(p)
        for a in adds:
            src = os.path.join(REPO, a)
            dst = os.path.join(GITDIR, a)
            if os.path.exists(os.path.join(PRISTINE, a)):
                die('%s (added by %s) exists upstream: change it with a '
                    'diff instead' % (a, p))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(src, dst)
            shutil.copymode(src, dst)
        if adds:
            git('add', '-f', '--', *adds)
        if has_diff:
            r = git('apply', '--index', os.path.join(REPO, 'patches', p),
                    check=False)
            if r.returncode:
                die('patches/%s does not apply:\n%s' % (p, r.stdout))
        msg = subject + '\n\n' + (body + '\n\n' if body else '') + \
            'Signed-off-by: %s <%s>\n' % who
        git('commit', '-q', '--no-verify', '-F', '-', input=msg, env=env)


def write(out, entries, who):
    commit_series(entries, who)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    git('format-patch', '-q', '--cover-letter', '--no-signature',
        '-o', out, 'base..series')
    with open(os.path.join(REPO, 'patches', 'cover-letter')) as f:
        cover = f.read().strip('\n').split('\n')
    subject, body = cover[0], '\n'.join(cover[1:]).strip('\n')
    path = os.path.join(out, '0000-cover-letter.patch')
    with open(path) as f:
        text = f.read()
    text = text.replace('*** SUBJECT HERE ***', subject)
    text = text.replace('*** BLURB HERE ***', body)
    with open(path, 'w') as f:
        f.write(text)
    n = len(entries)
    log('%d patches and a cover letter in %s, signed by %s <%s>' %
        ((n, out) + tuple(who)))


def check_am(out, who):
    """The patches apply with git am onto base; the result is the series."""
    env = dict(os.environ, GIT_COMMITTER_NAME=who[0],
               GIT_COMMITTER_EMAIL=who[1])
    patches = sorted(os.path.join(out, f) for f in os.listdir(out)
                     if re.match(r'\d{4}-', f) and not f.startswith('0000-'))
    git('checkout', '-q', '-f', '--detach', 'base')
    r = git('am', '-q', *patches, check=False, env=env)
    if r.returncode:
        git('am', '--abort', check=False)
        log('git am failed:\n' + r.stdout)
        return False
    got = git('rev-parse', 'HEAD^{tree}').stdout.strip()
    want = git('rev-parse', 'series^{tree}').stdout.strip()
    if got != want:
        log('git am gave tree %s, the series is %s' % (got, want))
        return False
    log('git am: %d patches apply to the pristine %s tree' %
        (len(patches), kernel_version()))
    return True


def check_laid():
    """The series' tree is the one the build lays (and so builds)."""
    git('checkout', '-q', '-f', 'series')
    changed = set(git('diff', '--name-only', 'base', 'series').stdout.split())
    with open(os.path.join(CACHE, 'manifest')) as f:
        laid = set(f.read().split())
    ok = True
    for f in sorted(changed | laid):
        a = os.path.join(GITDIR, f)
        b = os.path.join(CACHE, 'src', f)
        if f not in changed and not os.path.exists(a):
            log('%s is laid by the build but not in the series' % f)
            ok = False
        elif not os.path.exists(b) or open(a, 'rb').read() != \
                open(b, 'rb').read():
            log('%s differs between the series and the laid tree' % f)
            ok = False
    if ok:
        log('the series gives the tree the build lays (%d files)' %
            len(changed))
    return ok


def built_dirs(commit):
    """Directories of the C files a commit touches (tools/ aside)."""
    files = git('diff-tree', '--no-commit-id', '--name-only', '-r',
                commit).stdout.split()
    dirs = sorted({os.path.dirname(f) + '/' for f in files
                   if f.endswith('.c') and not f.startswith('tools/')
                   and not f.startswith('Documentation/')})
    kconfig = any(os.path.basename(f).startswith('Kconfig') for f in files)
    return dirs, kconfig


def check_bisect():
    """Each commit builds, on its own, the directories of its C files.

    A commit whose tree built before, with the same configuration, is not
    built again (the tree of a commit is all of the series up to it).
    """
    out = os.path.join(CACHE, 'build-bisect')
    config = os.path.join(CACHE, 'build-debug', '.config')
    okdir = os.path.join(CACHE, 'series-bisect-ok')
    salt = hashlib.sha256((open(config).read() +
                           open(__file__).read()).encode()).hexdigest()[:16]
    commits = git('rev-list', '--reverse', 'base..series').stdout.split()
    os.makedirs(out, exist_ok=True)
    os.makedirs(okdir, exist_ok=True)
    jobs = str(os.cpu_count() or 1)
    ok = True
    cached = 0
    for i, c in enumerate(commits, 1):
        subject = git('log', '-1', '--format=%s', c).stdout.strip()
        tree = git('rev-parse', c + '^{tree}').stdout.strip()
        stamp = os.path.join(okdir, '%s-%s' % (tree, salt))
        dirs, kconfig = built_dirs(c)
        if not dirs and not kconfig:
            continue
        if os.path.exists(stamp):
            cached += 1
            continue
        git('checkout', '-q', '-f', c)
        shutil.copyfile(config, os.path.join(out, '.config'))
        make = ['make', '-s', '-C', GITDIR, 'O=' + out, 'ARCH=x86_64',
                '-j' + jobs]
        r = run(make + ['olddefconfig'], check=False)
        if r.returncode == 0 and dirs:
            r = run(make + dirs, check=False)
        if r.returncode:
            log('bisect: %d "%s" does not build %s:\n%s' %
                (i, subject, ' '.join(dirs) or 'its Kconfig',
                 r.stdout[-3000:]))
            ok = False
        else:
            log('bisect: %d "%s" builds %s' %
                (i, subject, ' '.join(dirs) or '(Kconfig only)'))
            open(stamp, 'w').close()
    git('checkout', '-q', '-f', 'series')
    if cached:
        log('bisect: %d commits built in an earlier run, unchanged' % cached)
    return ok


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ('write', 'check'):
        die('usage: series.py write|check OUTDIR')
    mode, out = sys.argv[1], os.path.abspath(sys.argv[2])
    entries = parse_series()
    if not check_claims(entries):
        die('patches/series does not account for every file')
    who = identity(mode == 'write')
    ensure_base()
    write(out, entries, who)
    if mode == 'check':
        ok = check_am(out, who)
        ok = check_laid() and ok
        ok = check_bisect() and ok
        if not ok:
            die('the series check failed')
        log('the series applies, is the laid tree, and bisects')


if __name__ == '__main__':
    main()
