"""What bench/compare needs around the measurements: running a program with its peak memory
read back (wait4), installing PyTorch, building compare_nabla, and naming the CPU and PyTorch.
Standard library only."""
import os
import platform
import selectors
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_PYTHON = "/usr/bin/python3"


def run_measured(cmd, env, timeout):
    """Runs cmd; returns (stdout, stderr, exit code or -1 on timeout, peak resident KiB).

    The peak resident memory is this child's own ru_maxrss, from wait4(): subprocess reaps
    children with waitpid, which discards it, and RUSAGE_CHILDREN is a maximum over all of them.
    """
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT)
    try:
        return collect(proc, timeout)
    finally:
        if proc.returncode is None:  # interrupted: leave no benchmark running behind
            proc.kill()
            os.waitpid(proc.pid, 0)


def run_together(cmds, env, timeout, cpus=None):
    """Starts every command at once; returns run_measured's tuple for each, in order. With
    `cpus`, command i runs on CPU cpus[i] alone (sched_setaffinity in the child)."""

    def pinned_to(cpu):
        return None if cpu is None else lambda: os.sched_setaffinity(0, {cpu})

    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              cwd=ROOT, preexec_fn=pinned_to(cpus[i] if cpus else None))
             for i, cmd in enumerate(cmds)]
    try:
        # Each child's output is a few lines, far below a pipe's buffer, so reading them one
        # after the other never holds the others up.
        return [collect(proc, timeout) for proc in procs]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                os.waitpid(proc.pid, 0)


def collect(proc, timeout):
    deadline = time.monotonic() + timeout
    # Read everything first (the child may fill a pipe), then reap it with wait4 for its rusage.
    sel = selectors.DefaultSelector()
    chunks = {proc.stdout: [], proc.stderr: []}
    for f in chunks:
        sel.register(f, selectors.EVENT_READ)
    timed_out = False
    while sel.get_map():
        left = deadline - time.monotonic()
        if left <= 0:
            proc.kill()
            timed_out = True
            left = 5
        for key, _ in sel.select(timeout=left):
            data = os.read(key.fileobj.fileno(), 65536)
            if not data:
                sel.unregister(key.fileobj)
            else:
                chunks[key.fileobj].append(data)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = b"".join(chunks[proc.stdout]).decode(errors="replace")
    err = b"".join(chunks[proc.stderr]).decode(errors="replace")
    proc.stdout.close()
    proc.stderr.close()
    if timed_out:
        err += f"\ntimed out after {timeout} s"
        return out, err, -1, usage.ru_maxrss
    return out, err, proc.returncode, usage.ru_maxrss


def ensure_torch(log):
    """Installs python3-torch and libopenblas0-pthread with apt-get when missing."""
    def installed(pkg):
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True,
                           text=True)
        return "install ok installed" in r.stdout
    have_torch = os.path.exists(TORCH_PYTHON) and subprocess.run(
        [TORCH_PYTHON, "-c", "import torch"], capture_output=True).returncode == 0
    missing = [p for p in ("libopenblas0-pthread",) if shutil.which("dpkg-query") and
               not installed(p)]
    if not have_torch:
        missing.append("python3-torch")
    if not missing:
        return True
    log(f"bench/compare: installing {' '.join(missing)} with apt-get")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    ok = (subprocess.run(sudo + ["apt-get", "update", "-qq"], env=env).returncode == 0 and
          subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] +
                         missing, env=env).returncode == 0)
    if not ok:
        log("bench/compare: could not install " + " ".join(missing) +
            "; run with --nabla-only to time nabla alone")
    return ok


def ensure_nabla(build_dir, log):
    """Builds compare_nabla in build_dir (configuring a Release build there if needed)."""
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        log(f"bench/compare: configuring a Release build in {build_dir}")
        subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, "-G", "Ninja",
                        "-DCMAKE_BUILD_TYPE=Release"], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
        cache = f.read()
    if "CMAKE_BUILD_TYPE:STRING=Release" not in cache:
        log(f"bench/compare: warning: {build_dir} is not a Release build; numbers will be slow")
    r = subprocess.run(["cmake", "--build", build_dir, "--target", "compare_nabla"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-4000:] + r.stderr[-4000:])
        raise SystemExit("bench/compare: building compare_nabla failed")
    return os.path.join(build_dir, "bench", "compare_nabla")


# AMD's families and model ranges per core generation, for the header: a KVM guest often names
# its CPU only "AMD EPYC", which Zen 3, Zen 4 and Zen 5 hosts all give. The ranges are AMD's
# published model numbers (family 19h: Milan/Vermeer/Cezanne/Rembrandt are Zen 3 or 3+,
# Genoa/Raphael/Phoenix/Bergamo Zen 4; family 1Ah: Zen 5).
AMD_CORES = [
    (23, range(0x00, 0x30), "Zen / Zen+"), (23, range(0x30, 0x100), "Zen 2"),
    (25, range(0x00, 0x10), "Zen 3"), (25, range(0x10, 0x20), "Zen 4"),
    (25, range(0x20, 0x60), "Zen 3"), (25, range(0x60, 0x80), "Zen 4"),
    (25, range(0xa0, 0xb0), "Zen 4"), (26, range(0x00, 0x100), "Zen 5"),
]
# The instruction sets the kernels can use, in the order they widen.
VECTOR_FLAGS = ["avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni",
                "avx512_bf16"]


def cpu_description(cpuinfo, cores):
    """The CPU as the header names it, from /proc/cpuinfo's text: its model name, AMD's core
    generation where the family and model give it, the cores, and the vector instruction sets it
    has, so that every figure the run prints says which CPU and which vector width made it."""
    fields = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            break  # the first processor's block is enough
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    name = fields.get("model name") or platform.processor() or "unknown CPU"
    try:
        family, model = int(fields["cpu family"]), int(fields["model"])
    except (KeyError, ValueError):
        family = model = None
    if family is not None:
        core = next((c for f, models, c in AMD_CORES
                     if fields.get("vendor_id") == "AuthenticAMD" and f == family
                     and model in models), None)
        name += f" (family {family} model {model}" + (f", {core})" if core else ")")
    flags = set(fields.get("flags", "").split())
    vector = [f for f in VECTOR_FLAGS if f in flags]
    return (f"{name}, {cores} cores; vector instruction sets: " +
            (" ".join(vector) if vector else "none of " + " ".join(VECTOR_FLAGS[:2])))


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            return cpu_description(f.read(), os.cpu_count())
    except OSError:
        return f"{platform.processor() or 'unknown CPU'}, {os.cpu_count()} cores"


def torch_version():
    r = subprocess.run([TORCH_PYTHON, "-c", "import torch; print(torch.__version__)"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "?"
