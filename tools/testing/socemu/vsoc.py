#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Launch the emulated SoC link and run the guests' tests.

  vsoc.py test [--plan FILE] [--only BOOT]...   run the plan, print the summary
  vsoc.py demo                                  boot the two-SoC pair, tell the story
  vsoc.py bench                                 the benchmarks and their anchors

Topologies (DESIGN.md section 4):

  one  one VM holding both ends: a window (ivshmem-plain) onto its own RAM
       and two ivshmem-doorbell devices on one server;
  two  two VMs, "ep" and "rc", each with its RAM in a shared file, a window
       onto the other's RAM and one doorbell device on the common server.

Every VM writes its kernel log to <logs>/<boot>/<vm>.console.log and its
KTAP results to <logs>/<boot>/<vm>.ktap.  Each test has a time limit of
its own in the guest (NAME@SECONDS in the plan); a VM stops after a test
that ran out of time and is booted again for the tests that did not run,
so that one hung test does not take the next ones down.  A VM that has not
powered off within the sum of its tests' limits (plus a boot allowance)
is killed and the test it was running is named.  Boots run side by side
as far as the machine's cores allow (one core per VM).

The run fails on any failing test, on any splat (KASAN, UBSAN, lockdep,
kmemleak, WARN, BUG, Oops, hung task, soft lockup) in a console log, and
on a guest whose kernel ends tainted, with lockdep off or with kmemleak
off.  The last line is "N passed, N failed, N skipped".
"""

import argparse
import fcntl
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import ktap  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
CACHE = os.environ.get('VHOST_SOC_CACHE') or os.path.join(
    os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'),
    'vhost-soc')

RAM = '512M'
VECTORS = 8
# Windows onto the peer's RAM: 0 for the rig's self-tests and the host
# bridge's inbound path, 1..3 for the emulated endpoint's outbound windows.
WINDOWS = 4
MAX_DOORBELLS = 2
SHM_SIZE = '4M'
# RAM that the emulated NTB's ports translate their memory window to:
# SOCEMU_NTB_SLOT_BASE and two SOCEMU_NTB_MW_SIZE in ntb_hw_socemu.c.
NTB_SLOT_BASE = 0x1f000000
NTB_SLOTS = '8M'

# A test's limit in the guest when the plan gives none, and what a VM may
# spend on top of its tests' limits: booting, the health checks (kmemleak
# waits 6 s and scans twice), powering off.
DEFAULT_LIMIT = 300
BOOT_ALLOWANCE = 150

# The guest's own results that every VM reports after its tests.
HEALTH = ['taint', 'debug_locks', 'kmemleak']

# Upstream suites and the rig's self-tests, which prove the emulated link
# rather than the series; counted apart in the summary.
RIG_TESTS = {'pci-epf-test', 'kunit:socemu_loopback_kunit',
             'kunit:socemu_link_kunit'}

# Lines of a kernel log that fail the run whatever the tests said.
SPLAT = re.compile(
    r'BUG:|WARNING:|Oops|KASAN|UBSAN|kernel BUG|general protection fault|'
    r'unreferenced object|possible circular locking|possible recursive locking|'
    r'inconsistent lock state|suspicious RCU usage|Kernel panic|'
    r'INFO: task .* blocked|list_add corruption|list_del corruption|'
    r'soft lockup|hard LOCKUP|rcu_sched detected stall|rcu: INFO|'
    r'Call Trace:')

TEST_START = re.compile(r'vsoc: test (\S+): start')
TEST_TIME = re.compile(r'^# vsoc-time: (\S+) (\d+)s of (\d+)s')
STOPPED = '# vsoc: stopping after the time-out of '


def say(*args):
    print(*args, flush=True)


def split_test(spec):
    """"name@limit" -> (name, limit)."""
    name, _, limit = spec.partition('@')
    return name, int(limit) if limit else DEFAULT_LIMIT


class Boot:
    """One boot of one topology, with the tests each VM runs."""

    def __init__(self, name, topology, vms, expect=(), profile=None,
                 nic=False):
        self.name = name
        self.topology = topology
        self.vms = vms          # role -> [[test@limit, ...], ...], a list a boot
        self.expect = list(expect)  # what the runner must catch (self-test)
        self.profile = profile  # the emulated EP controller's, or default
        self.nic = nic          # a network link between the two VMs

    @property
    def cores(self):
        return len(self.vms)


def read_plan(path):
    boots = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.split('#', 1)[0].split()
            if not line:
                continue
            if len(line) < 3:
                sys.exit(f'{path}:{lineno}: want NAME TOPOLOGY ROLE=TESTS...')
            name, topology = line[0], line[1]
            vms = {}
            expect = []
            profile = None
            nic = False
            for spec in line[2:]:
                role, _, tests = spec.partition('=')
                if role == 'expect':
                    expect = tests.split(',')
                    continue
                if role == 'profile':
                    if not re.fullmatch(r'[a-z0-9_]+', tests):
                        sys.exit(f'{path}:{lineno}: bad profile {tests!r}')
                    profile = tests
                    continue
                if role == 'nic':
                    if tests != 'ssh':
                        sys.exit(f'{path}:{lineno}: bad nic {tests!r}')
                    nic = True
                    continue
                # "a,b+c": the VM runs a and b, reboots, then runs c.
                vms[role] = [[t for t in seg.split(',') if t]
                             for seg in tests.split('+')]
                for seg in vms[role]:
                    for t in seg:
                        try:
                            split_test(t)
                        except ValueError:
                            sys.exit(f'{path}:{lineno}: bad limit in {t}')
            want = {'one': 1, 'two': 2}.get(topology)
            if want is None or len(vms) != want:
                sys.exit(f'{path}:{lineno}: topology {topology} with {len(vms)} VMs')
            if nic and topology != 'two':
                sys.exit(f'{path}:{lineno}: nic=ssh needs two VMs')
            boots.append(Boot(name, topology, vms, expect, profile, nic))
    return boots


class Server:
    """The rig's ivshmem server, on a private socket."""

    def __init__(self, tmpdir, logfile):
        self.sock = os.path.join(tmpdir, 'ivshmem.sock')
        binary = os.path.join(CACHE, 'host-bin', 'ivshmem-server')
        self.log = open(logfile, 'w')
        self.proc = subprocess.Popen(
            [binary, '-S', self.sock, '-l', SHM_SIZE, '-n', str(VECTORS), '-v'],
            stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            if os.path.exists(self.sock):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError('ivshmem-server did not start, see ' + logfile)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def qemu_cmd(kernel, initrd, ram_file, peer_ram_file, server, ndoorbells,
             console, results, append, nic=None):
    # TCG runs "rep movsb" a byte at a time: without ERMS and FSRM the
    # kernel's memcpy() and user copies do not use it, and copy at about
    # the speed of memcpy_toio() (Documentation/dev-tools/socemu.rst).
    cmd = ['qemu-system-x86_64', '-nodefaults', '-display', 'none',
           '-machine', 'q35,accel=tcg,memory-backend=ram',
           '-cpu', 'max,erms=off,fsrm=off',
           '-smp', '1', '-m', RAM,
           '-object', f'memory-backend-file,id=ram,size={RAM},'
                      f'mem-path={ram_file},share=on']
    # Window 0 at slot 0x10, then the doorbells, then windows 1.. after
    # them: socemu hands them out in slot order.
    for i in range(WINDOWS):
        slot = 0x10 if i == 0 else 0x10 + MAX_DOORBELLS + i
        cmd += ['-object', f'memory-backend-file,id=peerram{i},size={RAM},'
                           f'mem-path={peer_ram_file},share=on',
                '-device', f'ivshmem-plain,memdev=peerram{i},bus=pcie.0,'
                           f'addr={slot:#x}']
    for i in range(ndoorbells):
        cmd += ['-chardev', f'socket,path={server.sock},id=db{i}',
                '-device', f'ivshmem-doorbell,chardev=db{i},vectors={VECTORS},'
                           f'bus=pcie.0,addr={0x11 + i:#x}']
    # A network link to the other VM, for tests that drive both VMs from
    # one (ntb_test.sh -r, over ssh): unix datagram sockets, so that
    # either VM may start first.
    if nic:
        local, remote, index = nic
        cmd += ['-netdev', f'dgram,id=nic,local.type=unix,local.path={local},'
                           f'remote.type=unix,remote.path={remote}',
                '-device', f'e1000,netdev=nic,mac=52:54:00:12:34:{index:02x},'
                           'bus=pcie.0,addr=0x18']
    # The emulated NTB's inbound slots (ntb_hw_socemu.c), reserved in
    # every VM at the same address.
    append = f'memmap={NTB_SLOTS}${NTB_SLOT_BASE:#x} ' + append
    cmd += ['-kernel', kernel, '-initrd', initrd,
            '-append', 'console=ttyS0 printk.time=1 panic=-1 oops=panic ' + append,
            '-serial', f'file:{console}', '-serial', f'file:{results}',
            '-no-reboot']
    return cmd


def parse_size(s):
    mult = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}
    return int(s[:-1]) * mult[s[-1]] if s[-1] in mult else int(s)


class VMRun:
    """One boot of one VM: what it was given, where its logs are."""

    def __init__(self, key, role, tests, console, ktap_path, limit):
        self.key = key
        self.role = role
        self.tests = tests          # [name@limit, ...] given to the VM
        self.console = console
        self.ktap = ktap_path
        self.limit = limit          # host-side seconds, scaled
        self.started = time.monotonic()
        self.took = 0.0
        self.killed_in = None       # the test running when killed, or ''
        self.proc = None

    @property
    def names(self):
        return [split_test(t)[0] for t in self.tests]

    def current_test(self):
        """The last test the console says started."""
        try:
            with open(self.console, errors='replace') as f:
                found = TEST_START.findall(f.read())
        except FileNotFoundError:
            found = []
        return found[-1] if found else ''

    def stopped_after(self):
        """The tests that ran, when the guest stopped after a time-out."""
        try:
            with open(self.ktap, errors='replace') as f:
                text = f.read()
        except FileNotFoundError:
            return None
        if STOPPED not in text:
            return None
        name = text.split(STOPPED, 1)[1].split()[0]
        names = self.names
        return self.tests[:names.index(name) + 1] if name in names else None


class BootRun:
    """A boot of the plan, running: its server, RAM files and VMs."""

    def __init__(self, boot, kernel, initrd, logdir, scale):
        self.boot = boot
        self.kernel = kernel
        self.initrd = initrd
        self.logdir = logdir
        self.scale = scale
        self.runs = []          # every VMRun, in start order
        self.current = {}       # role -> VMRun
        self.queue = {r: [list(seg) for seg in segs]
                      for r, segs in boot.vms.items()}
        self.nboots = {r: 0 for r in boot.vms}
        self.started = time.monotonic()
        self.took = 0.0
        self.last_report = self.started
        os.makedirs(logdir, exist_ok=True)
        for f in glob.glob(os.path.join(logdir, '*')):
            os.unlink(f)
        self.tmpdir = tempfile.mkdtemp(prefix=f'vsoc-{os.getpid()}-')
        self.shm = {}
        self.server = Server(self.tmpdir,
                             os.path.join(logdir, 'ivshmem-server.log'))
        try:
            for role in boot.vms:
                path = f'/dev/shm/vsoc-{os.getpid()}-{boot.name}-{role}'
                with open(path, 'wb') as f:
                    f.truncate(parse_size(RAM))
                self.shm[role] = path
            for role in boot.vms:
                self.start(role)
        except BaseException:
            self.cleanup()
            raise

    def start(self, role):
        """Boot @role's VM with its next list of tests."""
        tests = self.queue[role].pop(0)
        n = self.nboots[role] = self.nboots[role] + 1
        key = role if n == 1 else f'{role}.boot{n}'
        console = os.path.join(self.logdir, f'{key}.console.log')
        ktap_path = os.path.join(self.logdir, f'{key}.ktap')
        limit = (BOOT_ALLOWANCE +
                 sum(split_test(t)[1] for t in tests)) * self.scale
        run = VMRun(key, role, tests, console, ktap_path, limit)
        roles = list(self.boot.vms)
        peer = roles[(roles.index(role) + 1) % len(roles)]
        append = (f'vsoc.role={role} vsoc.tests={",".join(tests)} '
                  f'vsoc.timeout={DEFAULT_LIMIT} '
                  f'vsoc.scale={round(self.scale * 100)}')
        if self.boot.profile:
            # modprobe takes module options from the command line.
            append += f' pcie_socemu_ep.profile={self.boot.profile}'
        # The churn test's first seed, to replay a failing round.
        if os.environ.get('VSOC_CHURN_SEED', '').isdigit():
            append += f" vsoc.churn_seed={os.environ['VSOC_CHURN_SEED']}"
        # vsoc.py bench --profile: the benchmark that perf samples.
        if re.fullmatch(r'[a-z0-9-]+', os.environ.get('VSOC_PROFILE', '')):
            append += f" vsoc.profile={os.environ['VSOC_PROFILE']}"
        nic = None
        if self.boot.nic:
            index = roles.index(role) + 1
            nic = (os.path.join(self.tmpdir, f'nic-{role}'),
                   os.path.join(self.tmpdir, f'nic-{peer}'), index)
            append += f' vsoc.nic={index}'
        cmd = qemu_cmd(self.kernel, self.initrd, self.shm[role],
                       self.shm[peer], self.server,
                       2 if self.boot.topology == 'one' else 1,
                       console, ktap_path, append, nic)
        with open(os.path.join(self.logdir, f'{key}.qemu.cmd'), 'w') as f:
            f.write(' '.join(cmd) + '\n')
        with open(os.path.join(self.logdir, f'{key}.qemu.log'), 'w') as qlog:
            run.proc = subprocess.Popen(cmd, stdout=qlog,
                                        stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        self.runs.append(run)
        self.current[role] = run

    def poll(self):
        """Advance the VMs; True once every VM is done."""
        now = time.monotonic()
        for role, run in list(self.current.items()):
            if run.proc.poll() is None:
                if now - run.started < run.limit:
                    continue
                run.killed_in = run.current_test()
                run.proc.kill()
                run.proc.wait()
            run.took = now - run.started
            del self.current[role]
            # Tests that did not run after a time-out get a fresh boot.
            ran = run.stopped_after()
            if run.killed_in is not None:
                names = run.names
                k = (names.index(run.killed_in) + 1
                     if run.killed_in in names else len(names))
                ran = run.tests[:k]
            if ran is not None and len(ran) < len(run.tests):
                self.queue[role].insert(0, run.tests[len(ran):])
                run.tests = ran
            if self.queue[role]:
                self.start(role)
        if now - self.last_report >= 60 and self.current:
            self.last_report = now
            doing = ', '.join(f'{r}: {run.current_test() or "booting"}'
                              for r, run in self.current.items())
            say(f'  ... {self.boot.name}: {now - self.started:.0f}s, {doing}')
        if self.current:
            return False
        self.took = now - self.started
        self.cleanup()
        return True

    def cleanup(self):
        for run in self.current.values():
            if run.proc and run.proc.poll() is None:
                run.proc.kill()
                run.proc.wait()
        if self.server:
            self.server.stop()
            self.server = None
        for path in self.shm.values():
            if os.path.exists(path):
                os.unlink(path)
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class HostJob:
    """A command on the host that takes one core: the host tests."""

    cores = 1

    def __init__(self, name, cmd, env):
        self.name = name
        self.cmd = cmd
        self.env = env


class HostRun:
    def __init__(self, job):
        self.job = job
        self.boot = job
        self.runs = []
        self.started = time.monotonic()
        self.took = 0.0
        self.proc = subprocess.Popen(job.cmd, env={**os.environ, **job.env},
                                     stdin=subprocess.DEVNULL)

    def poll(self):
        if self.proc.poll() is None:
            return False
        self.took = time.monotonic() - self.started
        return True

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_boots(jobs, kernel, initrd, logs, scale, cores):
    """Run @jobs (boots, host jobs), as many at once as @cores allow.

    Each starts, in the order given, as soon as the cores it needs (one
    a VM) are free, later ones first if they fit while it waits; a job
    that needs more cores than that runs alone.
    """
    pending = list(jobs)
    running = []
    done = []
    try:
        while pending or running:
            used = sum(r.boot.cores for r in running)
            for job in list(pending):
                # A job that does not fit waits; a later one that fits
                # starts meanwhile.
                if used + job.cores > cores and running:
                    continue
                if isinstance(job, HostJob):
                    say(f'vsoc: {job.name}: started on the host')
                    running.append(HostRun(job))
                else:
                    say(f'vsoc: {job.name}: booting '
                        f'{" and ".join(job.vms)} ({job.topology} VM'
                        f'{"s" if job.cores > 1 else ""})')
                    running.append(BootRun(job, kernel, initrd,
                                           os.path.join(logs, job.name),
                                           scale))
                pending.remove(job)
                used += job.cores
            for r in list(running):
                if r.poll():
                    running.remove(r)
                    done.append(r)
                    say(f'vsoc: {r.boot.name}: done in {r.took:.0f}s')
            time.sleep(0.2)
    finally:
        for r in running:
            r.cleanup()
    order = [j.name for j in jobs]
    return sorted(done, key=lambda r: order.index(r.boot.name))


def scan_console(path):
    try:
        with open(path, errors='replace') as f:
            return [l.rstrip() for l in f if SPLAT.search(l)]
    except FileNotFoundError:
        return ['no console log']


def test_times(path):
    """{test: (seconds, limit)} from the guest's vsoc-time lines."""
    times = {}
    try:
        with open(path, errors='replace') as f:
            for line in f:
                m = TEST_TIME.match(line)
                if m:
                    times[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    except FileNotFoundError:
        pass
    return times


BOOT_CAT = 'boots: plans, time-outs, splats'


def category(name):
    if name in HEALTH:
        return 'kernel health'
    if name in RIG_TESTS:
        return 'rig: upstream suites, self-tests'
    return 'series'


class Totals:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.by_cat = {}

    def add(self, cat, p, f, s):
        self.passed += p
        self.failed += f
        self.skipped += s
        c = self.by_cat.setdefault(cat, [0, 0, 0])
        c[0] += p
        c[1] += f
        c[2] += s


def judge_vm(run, totals, boot='', verbose=True):
    """Count @run's results into @totals; print them; False if it failed."""
    # A VM killed by the host reported no health and no plan: its missing
    # plan and the time-out are its failures, not three missing results.
    rep = ktap.parse_file(run.ktap, run.names +
                          (HEALTH if run.killed_in is None else []))
    times = test_times(run.ktap)
    for t in rep.tests:
        totals.add(category(t.name), t.passed, t.failed, t.skipped)
    # Failures that belong to no test of the VM: a plan that does not
    # match, a missing result, a time-out of the whole VM, a splat.
    boot_fail = rep.failed - sum(t.failed for t in rep.tests)
    bad = list(rep.bad)
    if run.killed_in is not None:
        boot_fail += 1
        bad.append(f'time-out: killed after {run.limit:.0f}s while running '
                   f'{run.killed_in or "the boot"}')
    splats = scan_console(run.console)
    if splats:
        boot_fail += 1
        bad.append(f'{len(splats)} splat line(s) in {run.console}:')
        bad += ['  ' + s for s in splats[:10]]
    totals.add(BOOT_CAT, 0, boot_fail, 0)
    failed = sum(t.failed for t in rep.tests) + boot_fail
    status = 'FAIL' if failed else 'ok'
    say(f'{status:4} {boot}/{run.key}: {rep.passed} passed, {failed} failed, '
        f'{rep.skipped} skipped ({run.took:.0f}s of {run.limit:.0f}s)')
    if verbose:
        for t in rep.tests:
            if t.name in HEALTH and not t.failed:
                continue
            secs, limit = times.get(t.name, (None, None))
            when = f'{secs:4}s of {limit}s' if secs is not None else ''
            mark = 'FAIL' if t.failed else ('skip' if t.skipped and
                                            not t.passed else 'ok')
            say(f'       {mark:4} {t.name:36} {t.passed:4} passed '
                f'{t.failed:3} failed {t.skipped:3} skipped {when}')
    for line in bad:
        say('     ' + line)
    if failed:
        say(f'     logs: {run.console} {run.ktap}')
    return not failed


SELFTEST_CAT = 'harness self-test'


def judge_selftest(run, expect, totals, boot):
    """Count a boot that fails on purpose: each of @expect must be caught.

    @expect names a health result that must fail (kmemleak, taint,
    debug_locks) or, as splat:TEXT, a splat line that must appear.  Every
    expectation caught is a pass; one missed is a failure, and so is
    anything else going wrong in the boot (a test, a health result or a
    splat line that was not expected, a bad plan, a time-out).
    """
    rep = ktap.parse_file(run.ktap, run.names + HEALTH)
    failed_health = {t.name for t in rep.tests if t.name in HEALTH and t.failed}
    splats = scan_console(run.console)
    pats = [e[len('splat:'):] for e in expect if e.startswith('splat:')]
    bad = []
    passed = 0
    for e in expect:
        if e.startswith('splat:'):
            seen = any(e[len('splat:'):] in line for line in splats)
        else:
            seen = e in failed_health
        if seen:
            passed += 1
        else:
            bad.append(f'the runner missed {e}')
    bad += [f'unexpected: {t.name} failed' for t in rep.tests
            if t.failed and t.name not in failed_health]
    if rep.failed > sum(t.failed for t in rep.tests):
        bad += [f'unexpected: {b}' for b in rep.bad]
    bad += [f'unexpected: {h} failed' for h in failed_health - set(expect)]
    for line in splats:
        text = re.sub(r'^\[\s*[\d.]+\]\s*', '', line)
        if text != 'Call Trace:' and not any(p in text for p in pats):
            bad.append(f'unexpected splat: {line}')
    if run.killed_in is not None:
        bad.append(f'time-out: killed after {run.limit:.0f}s')
    tests_passed = sum(t.passed for t in rep.tests if t.name not in HEALTH)
    totals.add(SELFTEST_CAT, passed + tests_passed, len(bad), 0)
    status = 'FAIL' if bad else 'ok'
    say(f'{status:4} {boot}/{run.key}: harness self-test, {passed} of '
        f'{len(expect)} planted faults caught ({", ".join(expect)})')
    for line in bad:
        say('     ' + line)
    return not bad


def ensure_built(flavour):
    kernel = os.path.join(CACHE, f'build-{flavour}', 'arch/x86/boot/bzImage')
    initrd = os.path.join(CACHE, f'initramfs-{flavour}.cpio.gz')
    server = os.path.join(CACHE, 'host-bin', 'ivshmem-server')
    for p in (kernel, initrd, server):
        if not os.path.exists(p):
            sys.exit(f'vsoc: {p} missing: run "make kernel" first')
    return kernel, initrd


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def clean_stale():
    """Kill QEMUs and servers of runs that died, remove their files.

    Every run names its RAM files /dev/shm/vsoc-PID-* and its socket
    directory /tmp/vsoc-PID-*, PID being its vsoc.py: what belongs to a
    PID that is gone is stale, whichever cache that run used.
    """
    def owner(path):
        m = re.match(r'vsoc-(\d+)-', os.path.basename(path))
        return int(m.group(1)) if m else None

    stale = [p for p in glob.glob('/dev/shm/vsoc-*') +
             glob.glob(os.path.join(tempfile.gettempdir(), 'vsoc-*'))
             if owner(p) and not pid_alive(owner(p))]
    if not stale:
        return
    for proc in glob.glob('/proc/[0-9]*/cmdline'):
        try:
            with open(proc, 'rb') as f:
                cmd = f.read().decode(errors='replace')
        except OSError:
            continue
        if ('qemu-system' in cmd or 'ivshmem-server' in cmd) and \
                any(p in cmd for p in stale):
            pid = int(proc.split('/')[2])
            say(f'vsoc: killing {pid}, left by a run that died')
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    for p in stale:
        say(f'vsoc: removing {p}, left by a run that died')
        if os.path.isdir(p):
            shutil.rmtree(p, ignore_errors=True)
        else:
            try:
                os.unlink(p)
            except OSError:
                pass


def cmd_test(args):
    kernel, initrd = ensure_built(args.flavour)
    boots = read_plan(args.plan)
    if args.only:
        boots = [b for b in boots if b.name in args.only]
        if not boots:
            sys.exit('vsoc: no boot in the plan matches ' + ' '.join(args.only))
    totals = Totals()
    jobs = list(boots)
    if args.host_tests:
        # The host tests take one core for a while: they run beside the
        # boots, at the first core the plan leaves free.
        host_ktap = os.path.join(args.logs, 'host.ktap')
        jobs.insert(min(len(jobs), args.host_after),
                    HostJob('host-tests', [os.path.join(HERE, 'host-tests.sh')],
                            {'HOST_LOG': os.path.join(args.logs, 'host.log'),
                             'HOST_KTAP': host_ktap}))
    start = time.monotonic()
    done = run_boots(jobs, kernel, initrd, args.logs, args.timeout_scale,
                     args.cores)
    ktaps = [(p, 'lint') for p in args.lint_ktap or []]
    if args.host_tests:
        ktaps.append((host_ktap, 'host'))
    for path, cat in ktaps:
        rep = ktap.parse_file(path)
        totals.add(cat, rep.passed, rep.failed, rep.skipped)
        say(f'{"FAIL" if rep.failed else "ok":4} {path}: {rep.passed} passed, '
            f'{rep.failed} failed')
        for line in rep.bad:
            say('     ' + line)
    say(f'--- results ({time.monotonic() - start:.0f}s of boots, '
        f'{args.cores} at a time) ---')
    for r in done:
        for run in r.runs:
            if getattr(r.boot, 'expect', None):
                judge_selftest(run, r.boot.expect, totals, r.boot.name)
            else:
                judge_vm(run, totals, r.boot.name)
    for cat in ('lint', 'host', SELFTEST_CAT,
                'rig: upstream suites, self-tests', 'series',
                'kernel health', BOOT_CAT):
        if cat in totals.by_cat:
            p, f, s = totals.by_cat[cat]
            say(f'  {cat:34} {p:4} passed {f:3} failed {s:3} skipped')
    say(f'{totals.passed} passed, {totals.failed} failed, '
        f'{totals.skipped} skipped')
    return 1 if totals.failed or not totals.passed else 0


def tell(run):
    """The cases of @run's tests as plain sentences, figures under them."""
    try:
        with open(run.ktap, errors='replace') as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return
    case = re.compile(r'^    (ok|not ok) \d+ (.*?)(?:\s+#\s*(.*))?$')
    figure = re.compile(r'^    # (.*(msg/s|MiB/s|received|sent).*)$')
    figures = []        # a case's notes come before its result line
    for line in lines:
        m = case.match(line)
        if m:
            mark = '  ok  ' if m.group(1) == 'ok' else '  FAIL'
            if m.group(3) and m.group(3).upper().startswith('SKIP'):
                mark = '  skip'
            say(f'{mark} {m.group(2)}')
            for fig in figures:
                say('         ' + fig)
            figures = []
            continue
        m = figure.match(line)
        if m:
            figures.append(m.group(1))


def cmd_demo(args):
    kernel, initrd = ensure_built(args.flavour)
    # The rig's self-test, then virtio across the PCIe link: the RC's
    # stock virtio_rng reads from the EP's vhost_rng, through a reboot
    # of the RC; then rpmsg: the client sample and streams each way
    # between the RC's virtio_rpmsg_bus and the EP's vhost_rpmsg, through
    # another reboot of the RC.
    boot = Boot('demo', 'two',
                {'ep': [['kunit:socemu_link_kunit', 'pci-epf-vhost',
                         'vhost-rpmsg@600']],
                 'rc': [['kunit:socemu_link_kunit', 'pci-epf-vhost'],
                        ['pci-epf-vhost-rebooted', 'vhost-rpmsg@600'],
                        ['vhost-rpmsg-rebooted']]})
    say('vsoc: booting the EP SoC and the RC SoC (two VMs under TCG); '
        'the KTAP goes to ' + os.path.join(args.logs, 'demo'))
    done = run_boots([boot], kernel, initrd, args.logs, args.timeout_scale, 2)
    totals = Totals()
    titles = {'ep': 'the EP SoC (pcie-socemu-ep, pci-epf-vhost, vhost clients)',
              'rc': 'the RC SoC (host bridge, virtio_pci_epf, stock virtio drivers)'}
    ok = True
    for run in done[0].runs:
        n = run.key.partition('.boot')[2]
        say(f'--- {titles[run.role]}' +
            (f', boot {n} (the EP saw the RC reboot)' if n else '') + ' ---')
        tell(run)
    say('--- verdict ---')
    for run in done[0].runs:
        ok = judge_vm(run, totals, 'demo', verbose=False) and ok
    say('demo: ' + ('the two SoCs rang each other and wrote each other\'s '
                    'RAM; the RC read random bytes from the EP over virtio '
                    'on PCIe, rebooted, and read again; then the two '
                    'exchanged rpmsg messages, virtio_rpmsg_bus on the RC, '
                    'vhost_rpmsg on the EP, across another reboot'
                    if ok else 'FAILED, see ' + os.path.join(args.logs, 'demo')))
    return 0 if ok else 1


def cmd_bench(args):
    # Benchmarks print their figures next to the anchors of the same run
    # (Documentation/dev-tools/socemu.rst): the link's doorbell round trip
    # and window copy bandwidth, measured first on the same two VMs.
    kernel, initrd = ensure_built('bench')
    # One pair of VMs per benchmark, each with its own anchors.
    boots = [Boot('bench', 'two',
                  {'ep': [['bench-rpmsg@600']], 'rc': [['bench-rpmsg@600']]}),
             Boot('bench-net', 'two',
                  {'ep': [['bench-net@600']], 'rc': [['bench-net@600']]}),
             Boot('bench-ntb', 'two',
                  {'ep': [['bench-ntb@600']], 'rc': [['bench-ntb@600']]},
                  nic=True)]
    if args.profile:
        # One network benchmark, under perf in both VMs (bench-net, or
        # bench-ntb for the ntb- ones).
        os.environ['VSOC_PROFILE'] = args.profile
        boots = boots[2:3] if args.profile.startswith('ntb-') else boots[1:2]
    titles = {'bench': {
                  'ep': 'anchors: the link itself (socemu_bench, EP to RC)',
                  'rc': 'rpmsg over pci-epf-vhost (rpmsg_char, RC end)'},
              'bench-net': {
                  'ep': 'anchors of the net run, and vhost_netdev\'s counters',
                  'rc': 'vhost_netdev and virtio_net over pci-epf-vhost '
                        '(RC end)'},
              'bench-ntb': {
                  'ep': 'anchors of the NTB run',
                  'rc': 'the emulated NTB: ntb_perf, and ntb_netdev over '
                        'ntb_transport'}}
    say('vsoc: benchmark kernel, two VMs under TCG: absolute figures mean '
        'nothing, ratios to the anchors do')
    done = run_boots(boots, kernel, initrd, args.logs, args.timeout_scale, 2)
    rc = 0
    for name in [b.name for b in boots]:
        title = titles[name]
        runs = {run.role: run for b in done if b.boot.name == name
                for run in b.runs}
        for role in ('ep', 'rc'):
            run = runs[role]
            rep = ktap.parse_file(run.ktap, run.names)
            if rep.failed or run.killed_in is not None:
                rc = 1
                say('\n'.join(rep.bad))
            say(f'--- {title[role]} ---')
            with open(run.ktap, errors='replace') as fh:
                for line in fh:
                    line = line.strip()
                    if (line.startswith('# ') and
                            not line.startswith('# vsoc')):
                        say('  ' + line[2:])
    say('bench: ' + ('done' if rc == 0 else 'FAILED, see ' +
                     os.path.join(args.logs, 'bench')))
    return rc


def main():
    # Turn SIGTERM/SIGHUP into an exception so that the runs still kill
    # the VMs and the servers and remove the RAM files.
    def terminate(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--flavour', default='debug', choices=['debug', 'bench'])
    ap.add_argument('--logs', default=os.path.join(REPO, 'logs'))
    ap.add_argument('--timeout-scale', type=float, default=1.0,
                    help='multiply every time limit, the guests\' too '
                         '(slow machines)')
    # The whole plan also passes with twice as many VMs as cores (--cores
    # 4 on two cores, each VM at about half speed): the limits' margin.
    ap.add_argument('--cores', type=int, default=os.cpu_count() or 1,
                    help='VMs (and host jobs) to run at once, one core '
                         'each (default: the host\'s cores)')
    sub = ap.add_subparsers(dest='cmd', required=True)
    t = sub.add_parser('test')
    t.add_argument('--plan', default=os.path.join(HERE, 'tests.plan'))
    t.add_argument('--only', action='append')
    t.add_argument('--lint-ktap', action='append',
                   help='count the results of this KTAP file as lint gates')
    t.add_argument('--host-tests', action='store_true',
                   help='run host-tests.sh beside the boots and count its '
                        'results')
    t.add_argument('--host-after', type=int, default=2,
                   help='start the host tests after this many boots')
    sub.add_parser('demo')
    b = sub.add_parser('bench')
    b.add_argument('--profile',
                   choices=[f'{on}{what}'
                            for on in ('', 'ntb-', 'ntb-netdev-')
                            for what in ('tcp-rc-ep', 'tcp-ep-rc', 'udp-rr')],
                   help='run only this network benchmark, with perf '
                        'sampling both VMs, and print their profiles')
    args = ap.parse_args()
    if args.timeout_scale <= 0 or args.cores < 1:
        ap.error('--timeout-scale and --cores must be positive')
    # One run at a time per cache: the kernel and initramfs must not change
    # under a run.  The Makefile holds the same lock around the build.
    os.makedirs(CACHE, exist_ok=True)
    lock = open(os.path.join(CACHE, 'lock'), 'a')
    if os.environ.get('VHOST_SOC_LOCKED') != '1':
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f'vsoc: another run holds {CACHE}/lock; waiting for it')
            fcntl.flock(lock, fcntl.LOCK_EX)
    clean_stale()
    return {'test': cmd_test, 'demo': cmd_demo,
            'bench': cmd_bench}[args.cmd](args)


if __name__ == '__main__':
    sys.exit(main())
