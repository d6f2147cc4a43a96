#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Launch the emulated SoC link and run the guests' tests.

  vsoc.py test [--plan FILE] [--only BOOT]...   run the plan, print the summary
  vsoc.py demo                                  boot the two-SoC pair, show its log
  vsoc.py bench                                 the benchmarks and their anchors

Topologies (DESIGN.md section 4):

  one  one VM holding both ends: a window (ivshmem-plain) onto its own RAM
       and two ivshmem-doorbell devices on one server;
  two  two VMs, "ep" and "rc", each with its RAM in a shared file, a window
       onto the other's RAM and one doorbell device on the common server.

Every VM writes its kernel log to <logs>/<boot>/<vm>.console.log and its
KTAP results to <logs>/<boot>/<vm>.ktap; a VM that has not powered off
after the boot's time limit is killed and its tests count as failed.  The
run fails on any failing test and on any splat (KASAN, lockdep, kmemleak,
WARN, BUG, Oops) in a console log.  The last line is "N passed, N failed".
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
CACHE = os.environ.get('VHOST_SOC_CACHE') or os.path.join(
    os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'),
    'vhost-soc')

RAM = '512M'
VECTORS = 4
# Windows onto the peer's RAM: 0 for the rig's self-tests and the host
# bridge's inbound path, 1..3 for the emulated endpoint's outbound windows.
WINDOWS = 4
MAX_DOORBELLS = 2
SHM_SIZE = '4M'

# Lines of a kernel log that fail the run whatever the tests said.
SPLAT = re.compile(
    r'BUG:|WARNING:|Oops|KASAN|UBSAN|kernel BUG|general protection fault|'
    r'unreferenced object|possible circular locking|possible recursive locking|'
    r'inconsistent lock state|suspicious RCU usage|Kernel panic|'
    r'INFO: task .* blocked|list_add corruption|list_del corruption|'
    r'Call Trace:')

RESULT = re.compile(r'^(\s*)(ok|not ok) (\d+)(?: ([^#]*?))?\s*(?:#\s*(.*))?$')


class Boot:
    """One boot of one topology, with the tests each VM runs."""

    def __init__(self, name, topology, timeout, vms):
        self.name = name
        self.topology = topology
        self.timeout = timeout
        self.vms = vms          # role -> [[test, ...], ...], one list a boot


def read_plan(path):
    boots = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.split('#', 1)[0].split()
            if not line:
                continue
            if len(line) < 4:
                sys.exit(f'{path}:{lineno}: want NAME TOPOLOGY TIMEOUT ROLE=TESTS...')
            name, topology, timeout = line[0], line[1], int(line[2])
            vms = {}
            for spec in line[3:]:
                role, _, tests = spec.partition('=')
                # "a,b+c": the VM runs a and b, reboots, then runs c.
                vms[role] = [[t for t in seg.split(',') if t]
                             for seg in tests.split('+')]
            want = {'one': 1, 'two': 2}.get(topology)
            if want is None or len(vms) != want:
                sys.exit(f'{path}:{lineno}: topology {topology} with {len(vms)} VMs')
            boots.append(Boot(name, topology, timeout, vms))
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
             console, results, append):
    cmd = ['qemu-system-x86_64', '-nodefaults', '-display', 'none',
           '-machine', 'q35,accel=tcg,memory-backend=ram', '-cpu', 'max',
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
    cmd += ['-kernel', kernel, '-initrd', initrd,
            '-append', 'console=ttyS0 panic=-1 oops=panic ' + append,
            '-serial', f'file:{console}', '-serial', f'file:{results}',
            '-no-reboot']
    return cmd


def run_boot(boot, kernel, initrd, logdir, timeout_scale):
    """Boot the VMs of @boot at once, rebooting those with several segments.

    Return {role or role.bootN: [console, ktap, timed_out, tests]}.
    """
    os.makedirs(logdir, exist_ok=True)
    tmpdir = tempfile.mkdtemp(prefix='vsoc-')
    shm = []
    procs = {}
    out = {}
    server = None
    try:
        server = Server(tmpdir, os.path.join(logdir, 'ivshmem-server.log'))
        roles = list(boot.vms)
        for role in roles:
            path = f'/dev/shm/vsoc-{os.getpid()}-{boot.name}-{role}'
            with open(path, 'wb') as f:
                f.truncate(parse_size(RAM))
            shm.append(path)
        def start(i, role, seg):
            """Boot segment @seg of @role's VM; a later one is a reboot."""
            key = role if seg == 0 else f'{role}.boot{seg + 1}'
            console = os.path.join(logdir, f'{key}.console.log')
            ktap = os.path.join(logdir, f'{key}.ktap')
            for p in (console, ktap):
                if os.path.exists(p):
                    os.unlink(p)
            tests = boot.vms[role][seg]
            append = f'vsoc.role={role} vsoc.tests={",".join(tests)}'
            cmd = qemu_cmd(kernel, initrd, shm[i], shm[(i + 1) % len(roles)],
                           server, 2 if boot.topology == 'one' else 1,
                           console, ktap, append)
            with open(os.path.join(logdir, f'{key}.qemu.cmd'), 'w') as f:
                f.write(' '.join(cmd) + '\n')
            qlog = open(os.path.join(logdir, f'{key}.qemu.log'), 'w')
            procs[role] = subprocess.Popen(cmd, stdout=qlog,
                                           stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL)
            qlog.close()
            out[key] = [console, ktap, False, tests]
            return key

        current = {}
        for i, role in enumerate(roles):
            current[role] = (i, 0, start(i, role, 0))
        deadline = time.monotonic() + boot.timeout * timeout_scale
        while current:
            for role, (i, seg, key) in list(current.items()):
                if procs[role].poll() is None:
                    if time.monotonic() < deadline:
                        continue
                    procs[role].kill()
                    procs[role].wait()
                    out[key][2] = True
                    del current[role]
                elif seg + 1 < len(boot.vms[role]):
                    current[role] = (i, seg + 1, start(i, role, seg + 1))
                else:
                    del current[role]
            time.sleep(0.2)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if server:
            server.stop()
        for path in shm:
            if os.path.exists(path):
                os.unlink(path)
        shutil.rmtree(tmpdir, ignore_errors=True)
    return out


def parse_size(s):
    mult = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}
    return int(s[:-1]) * mult[s[-1]] if s[-1] in mult else int(s)


def parse_ktap(path, tests):
    """Count leaf results in a guest's KTAP; a test with no result fails.

    A result line closes a subtest (is a parent, not a leaf) if lines more
    indented than it came after the previous result at its level or above.
    A parent that failed while none of its leaves did counts as one
    failure, so that a suite whose set-up failed is not lost.
    """
    passed, failed, skipped, bad = 0, 0, 0, []
    seen = {}
    try:
        with open(path, errors='replace') as f:
            text = [l for l in f.read().splitlines() if l.strip()]
    except FileNotFoundError:
        text = []
    parsed = []             # (indent, match or None, leaf failed)
    for j, line in enumerate(text):
        indent = len(line) - len(line.lstrip(' '))
        m = RESULT.match(line)
        leaf_failed = False
        if m:
            ok = m.group(2) == 'ok'
            directive = (m.group(5) or '').strip().upper()
            name = (m.group(4) or '').strip()
            children = fails_below = 0
            for k in range(len(parsed) - 1, -1, -1):
                pind, pm, pfail = parsed[k]
                if pm and pind <= indent:
                    break
                if pind > indent:
                    children += 1
                    fails_below += pfail
            if children:
                if not ok and not fails_below:
                    failed += 1
                    bad.append(line.strip())
                leaf_failed = not ok
            elif directive.startswith('SKIP'):
                skipped += 1
            elif ok:
                passed += 1
            else:
                failed += 1
                leaf_failed = True
                bad.append(line.strip())
            if indent == 0:
                seen[name] = ok
        parsed.append((indent, m, leaf_failed))
    if not text:
        failed += 1
        bad.append(f'{path}: no results')
    for t in tests + (['kmemleak'] if tests else []):
        if t not in seen:
            failed += 1
            bad.append(f'{t}: no result')
    return passed, failed, skipped, bad


def scan_console(path):
    try:
        with open(path, errors='replace') as f:
            return [l.rstrip() for l in f if SPLAT.search(l)]
    except FileNotFoundError:
        return ['no console log']


def ensure_built(flavour):
    kernel = os.path.join(CACHE, f'build-{flavour}', 'arch/x86/boot/bzImage')
    initrd = os.path.join(CACHE, f'initramfs-{flavour}.cpio.gz')
    server = os.path.join(CACHE, 'host-bin', 'ivshmem-server')
    for p in (kernel, initrd, server):
        if not os.path.exists(p):
            sys.exit(f'vsoc: {p} missing: run "make kernel" first')
    return kernel, initrd


def cmd_test(args):
    kernel, initrd = ensure_built(args.flavour)
    boots = read_plan(args.plan)
    if args.only:
        boots = [b for b in boots if b.name in args.only]
        if not boots:
            sys.exit('vsoc: no boot in the plan matches ' + ' '.join(args.only))
    total_pass = total_fail = total_skip = 0
    for path in args.extra_ktap or []:
        p, f, s, bad = parse_ktap(path, [])
        print(f'{"FAIL" if f else "ok":4} {path}: {p} passed, {f} failed')
        for line in bad:
            print('     ' + line)
        total_pass += p
        total_fail += f
        total_skip += s
    for boot in boots:
        start = time.monotonic()
        logdir = os.path.join(args.logs, boot.name)
        res = run_boot(boot, kernel, initrd, logdir, args.timeout_scale)
        took = time.monotonic() - start
        for role, (console, ktap, timed_out, tests) in res.items():
            p, f, s, bad = parse_ktap(ktap, tests)
            splats = scan_console(console)
            if timed_out:
                f += 1
                bad.append('time-out: killed after '
                           f'{boot.timeout * args.timeout_scale:.0f}s')
            if splats:
                f += 1
                bad.append(f'{len(splats)} splat line(s) in {console}:')
                bad += ['  ' + s for s in splats[:10]]
            status = 'FAIL' if f else 'ok'
            print(f'{status:4} {boot.name}/{role}: {p} passed, {f} failed, '
                  f'{s} skipped ({took:.0f}s)')
            for line in bad:
                print('     ' + line)
            if f:
                print(f'     logs: {logdir}/{role}.console.log {ktap}')
            total_pass += p
            total_fail += f
            total_skip += s
        sys.stdout.flush()
    print(f'{total_pass} passed, {total_fail} failed, {total_skip} skipped')
    return 1 if total_fail or not total_pass else 0


def cmd_demo(args):
    kernel, initrd = ensure_built(args.flavour)
    # The rig's self-test, then virtio across the PCIe link: the RC's
    # stock virtio_rng reads from the EP's vhost_rng, through a reboot
    # of the RC; then rpmsg: the client sample and 100000 messages each
    # way between the RC's virtio_rpmsg_bus and the EP's vhost_rpmsg,
    # through another reboot of the RC.
    boot = Boot('demo', 'two', 900,
                {'ep': [['kunit:socemu_link_kunit', 'pci-epf-vhost',
                         'vhost-rpmsg']],
                 'rc': [['kunit:socemu_link_kunit', 'pci-epf-vhost'],
                        ['pci-epf-vhost-rebooted', 'vhost-rpmsg'],
                        ['vhost-rpmsg-rebooted']]})
    logdir = os.path.join(args.logs, 'demo')
    print('vsoc: booting the EP SoC and the RC SoC (two VMs under TCG) ...')
    res = run_boot(boot, kernel, initrd, logdir, args.timeout_scale)
    rc = 0
    for role, (console, ktap, timed_out, tests) in res.items():
        print(f'--- {role} SoC ({ktap}) ---')
        with open(ktap, errors='replace') as f:
            sys.stdout.write(f.read())
        p, f, s, bad = parse_ktap(ktap, tests)
        splats = scan_console(console)
        if f or timed_out or splats:
            rc = 1
            print('\n'.join(bad + splats))
    print('demo: ' + ('the two SoCs rang each other and wrote each other\'s '
                      'RAM; the RC read random bytes from the EP over virtio '
                      'on PCIe, rebooted, and read again; then the two '
                      'exchanged rpmsg messages, virtio_rpmsg_bus on the RC, '
                      'vhost_rpmsg on the EP, across another reboot'
                      if rc == 0 else 'FAILED, see ' + logdir))
    return rc


def cmd_bench(args):
    # Benchmarks print their figures next to the anchors of the same run
    # (Documentation/dev-tools/socemu.rst): the link's doorbell round trip
    # and window copy bandwidth, measured first on the same two VMs.
    kernel, initrd = ensure_built('bench')
    boot = Boot('bench', 'two', 900,
                {'ep': [['bench-rpmsg']], 'rc': [['bench-rpmsg']]})
    logdir = os.path.join(args.logs, 'bench')
    print('vsoc: benchmark kernel, two VMs under TCG: absolute figures mean '
          'nothing, ratios to the anchors do')
    res = run_boot(boot, kernel, initrd, logdir, args.timeout_scale)
    rc = 0
    titles = {'ep': 'anchors: the link itself (socemu_bench, EP to RC)',
              'rc': 'rpmsg over pci-epf-vhost (rpmsg_char, RC end)'}
    for role in ('ep', 'rc'):
        console, ktap, timed_out, tests = res[role]
        p, f, s, bad = parse_ktap(ktap, tests)
        if f or timed_out:
            rc = 1
            print('\n'.join(bad))
        print(f'--- {titles[role]} ---')
        with open(ktap, errors='replace') as fh:
            for line in fh:
                line = line.strip()
                if line.startswith('# ') and not line.startswith('# vsoc'):
                    print('  ' + line[2:])
    print('bench: ' + ('done' if rc == 0 else 'FAILED, see ' + logdir))
    return rc


def main():
    # Turn SIGTERM/SIGHUP into an exception so that run_boot() still kills
    # the VMs and the server and removes the RAM files.
    def terminate(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--flavour', default='debug', choices=['debug', 'bench'])
    ap.add_argument('--logs', default=os.path.join(REPO, 'logs'))
    ap.add_argument('--timeout-scale', type=float, default=1.0,
                    help='multiply every time limit (slow machines)')
    sub = ap.add_subparsers(dest='cmd', required=True)
    t = sub.add_parser('test')
    t.add_argument('--plan', default=os.path.join(HERE, 'tests.plan'))
    t.add_argument('--only', action='append')
    t.add_argument('--extra-ktap', action='append',
                   help='count the results of this KTAP file too (lint gates)')
    sub.add_parser('demo')
    sub.add_parser('bench')
    args = ap.parse_args()
    return {'test': cmd_test, 'demo': cmd_demo,
            'bench': cmd_bench}[args.cmd](args)


if __name__ == '__main__':
    sys.exit(main())
