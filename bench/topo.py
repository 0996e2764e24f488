# SPDX-License-Identifier: MIT
"""Topology and process plumbing for bench.py: two namespaces joined by a veth pair,
daemons and helper processes started inside them, and a cleanup that leaves nothing
behind. Every external command runs with a timeout; failures raise BenchError.

Addresses come from the RFC 2544 benchmarking range 198.18.0.0/15 and exist only in the
namespaces created here, so no packet can leave the machine.
"""
import os
import signal
import subprocess
import time

SOCK_DIR = "/var/run/wireguard"

# Outer (veth) addresses, and the inner addresses of each tunnel.
OUTER_A, OUTER_B = "198.18.0.1", "198.18.0.2"
INNER = {"wgd": ("198.18.1.1", "198.18.1.2"), "wireguard-go": ("198.18.2.1", "198.18.2.2")}
PORTS = {"wgd": 51820, "wireguard-go": 51821}
# One letter per implementation, for interface names.
SHORT = {"wgd": "d", "wireguard-go": "g"}
# hsload sends from many addresses of this /16 (an AnyIP local route in namespace A).
HS_SRC_NET = "198.19.0.0"
VETH_MTU, TUN_MTU = 1500, 1420


class BenchError(Exception):
    """A step failed; the message says which and why."""


def run(args, timeout, ns=None, check=True, input=None):
    """Runs a command (inside namespace ns if given) and returns the CompletedProcess."""
    if ns:
        args = ["ip", "netns", "exec", ns] + list(args)
    args = [str(a) for a in args]
    try:
        res = subprocess.run(args, timeout=timeout, capture_output=True, text=True,
                             input=input, stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BenchError(f"`{' '.join(args)}` timed out after {timeout} s") from None
    except OSError as e:
        raise BenchError(f"`{args[0]}`: {e}") from None
    if check and res.returncode != 0:
        err = (res.stderr or res.stdout).strip().splitlines()[-3:]
        raise BenchError(f"`{' '.join(args)}` exited with {res.returncode}: {' / '.join(err)}")
    return res


def wait_until(what, timeout, fn, interval=0.05):
    """Polls fn until it returns a true value, which is returned; BenchError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        val = fn()
        if val:
            return val
        if time.monotonic() >= deadline:
            raise BenchError(f"{what}: not ready after {timeout} s")
        time.sleep(interval)


def proc_children():
    """Maps every pid to the list of its children, from /proc/*/stat."""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(name))
    return kids


def process_tree(pid):
    """pid and all its descendants."""
    kids, out, todo = proc_children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(pid):
    """utime + stime of a process (all its threads), in clock ticks; 0 if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return 0


def vm_rss_kb(pid):
    """VmRSS of a process in KiB; 0 if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class Topology:
    """Namespaces A and B, a veth pair between them, and the processes run in them."""

    def __init__(self, runid, workdir, log):
        self.runid, self.workdir, self.log = runid, workdir, log
        self.ns_a, self.ns_b = f"wgb{runid}a", f"wgb{runid}b"
        self.veth_a, self.veth_b = f"bv{runid}a", f"bv{runid}b"
        self.procs = []
        self.ifnames = set()
        self.created = []

    def ifname(self, prefix):
        """A unique interface name; it doubles as the host-wide UAPI socket name."""
        name = f"{prefix}{self.runid}"
        assert len(name) < 16
        self.ifnames.add(name)
        return name

    def up(self):
        for ns in (self.ns_a, self.ns_b):
            run(["ip", "netns", "add", ns], 10)
            self.created.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"], 10)
        run(["ip", "-n", self.ns_a, "link", "add", self.veth_a, "mtu", VETH_MTU, "type", "veth",
             "peer", "name", self.veth_b, "mtu", VETH_MTU, "netns", self.ns_b], 10)
        for ns, dev, addr in ((self.ns_a, self.veth_a, OUTER_A), (self.ns_b, self.veth_b, OUTER_B)):
            run(["ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev], 10)
            run(["ip", "-n", ns, "link", "set", dev, "up"], 10)
        # hsload binds any address of HS_SRC_NET in A; B routes the replies back to A.
        run(["ip", "-n", self.ns_a, "route", "add", "local", f"{HS_SRC_NET}/16", "dev", "lo"], 10)
        run(["ip", "-n", self.ns_b, "route", "add", f"{HS_SRC_NET}/16", "via", OUTER_A], 10)
        if not ping_ok(self.ns_a, OUTER_B, tries=20):
            raise BenchError("topology: the veth pair does not pass traffic")

    def spawn(self, ns, args, logname, env=None):
        """Starts a long-running process in ns, in its own process group; output to a log."""
        path = os.path.join(self.workdir, logname + ".log")
        with open(path, "ab") as logf:
            try:
                p = subprocess.Popen(["ip", "netns", "exec", ns] + [str(a) for a in args],
                                     stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                     start_new_session=True, env=env)
            except OSError as e:
                raise BenchError(f"cannot start {args[0]}: {e}") from None
        p.logpath = path
        self.procs.append(p)
        return p

    def stop(self, p, grace=5):
        """SIGTERM to p's process group, SIGKILL after grace seconds."""
        if p in self.procs:
            self.procs.remove(p)
        if p.poll() is not None:
            return  # already reaped: its pid is no longer ours to signal
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        # A group member that outlived its leader is still in one of our namespaces, and
        # cleanup() sweeps those; p.pid itself may already belong to someone else.

    def ns_pids(self, ns):
        res = run(["ip", "netns", "pids", ns], 10, check=False)
        return [int(x) for x in res.stdout.split() if x.isdigit()]

    def cleanup(self):
        """Stops everything this run started and deletes what it created. Never raises."""
        left = []
        for p in list(self.procs):
            try:
                self.stop(p, grace=3)
            except Exception as e:  # keep cleaning whatever happens
                left.append(f"pid {p.pid}: {e}")
        for ns in self.created:
            try:
                self.kill_ns_processes(ns)
                run(["ip", "netns", "del", ns], 10)
            except Exception as e:
                left.append(f"namespace {ns}: {e}")
        for name in self.ifnames:
            path = os.path.join(SOCK_DIR, name + ".sock")
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                left.append(f"{path}: {e}")
        self.created = []
        return left

    def kill_ns_processes(self, ns):
        """Only processes this run started live in its namespaces."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self.ns_pids(ns)
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 3
            while pids and self.ns_pids(ns) and time.monotonic() < deadline:
                time.sleep(0.05)


def ping_ok(ns, addr, tries=10):
    """One echo answered within tries attempts (each waits up to 1 s)."""
    for _ in range(tries):
        if run(["ping", "-n", "-q", "-c", "1", "-W", "1", addr], 5, ns=ns,
               check=False).returncode == 0:
            return True
    return False


class Daemon:
    """A wgd or wireguard-go process serving one interface, driven with wg(8)."""

    def __init__(self, topo, impl, binary, ns, ifname):
        self.topo, self.impl, self.binary, self.ns, self.ifname = topo, impl, binary, ns, ifname
        self.proc = None

    @property
    def sock(self):
        return os.path.join(SOCK_DIR, self.ifname + ".sock")

    def start(self, conf=None):
        """Starts the daemon; wgd reads conf (wg-quick format, `-c`) when one is given."""
        env = dict(os.environ, LOG_LEVEL="error")
        if os.path.exists(self.sock):  # a stale socket of ours would look ready
            os.unlink(self.sock)
        args = [self.binary, "-f"] + (["-c", conf] if conf else []) + [self.ifname]
        self.proc = self.topo.spawn(self.ns, args, f"{self.impl}-{self.ifname}", env=env)

        def ready():
            if self.proc.poll() is not None:
                raise BenchError(f"{self.impl} {self.ifname} exited with {self.proc.returncode}: "
                                 + tail(self.proc.logpath))
            return os.path.exists(self.sock) and run(["wg", "show", self.ifname], 5,
                                                     check=False).returncode == 0
        wait_until(f"{self.impl} {self.ifname}", 15, ready)
        return self

    def pids(self):
        return process_tree(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def cpu_ticks(self):
        return sum(cpu_ticks(p) for p in self.pids())

    def rss_kb(self):
        """VmRSS summed over the daemon's processes (wgd runs a supervisor and a worker)."""
        return sum(vm_rss_kb(p) for p in self.pids())

    def setconf(self, path, timeout=120):
        """`wg setconf`, returning its wall-clock time in seconds."""
        t0 = time.monotonic()
        run(["wg", "setconf", self.ifname, path], timeout, ns=self.ns)
        return time.monotonic() - t0

    def link_up(self, addr=None):
        if addr:
            run(["ip", "-n", self.ns, "addr", "add", f"{addr}/24", "dev", self.ifname], 10)
        run(["ip", "-n", self.ns, "link", "set", self.ifname, "mtu", TUN_MTU, "up"], 10)

    def stop(self):
        if self.proc:
            self.topo.stop(self.proc)
            self.proc = None


def tail(path, n=5):
    try:
        with open(path, errors="replace") as f:
            return " / ".join(f.read().strip().splitlines()[-n:]) or "(no output)"
    except OSError:
        return "(no log)"
