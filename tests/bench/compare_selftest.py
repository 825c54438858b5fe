"""Checks bench/compare without PyTorch: its parsing, medians, ratios, choice of PyTorch's best
setting and target verdicts on made-up numbers, then a real nabla-only run of every group on
tiny sizes through the compare_nabla binary.

    python3 tests/bench/compare_selftest.py BUILD/bench/compare_nabla
"""
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DRIVER = os.path.join(ROOT, "bench", "compare")
NABLA_BIN = None  # set from argv


def load_driver():
    loader = importlib.machinery.SourceFileLoader("bench_compare", DRIVER)
    spec = importlib.util.spec_from_loader("bench_compare", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


compare = load_driver()


def load_call_windows():
    path = os.path.join(ROOT, "bench", "call_windows.py")
    loader = importlib.machinery.SourceFileLoader("bench_call_windows", path)
    spec = importlib.util.spec_from_loader("bench_call_windows", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class FastestWindow(unittest.TestCase):
    def test_windows_of_a_probe_round_not_single_calls(self):
        windows = load_call_windows()
        w = windows.PEAK_ROUND_SECONDS
        # Calls of 0.26 of a window: one lucky call (half as long) does not make the fastest
        # time, the window it falls in does: (0.13 + 4 * 0.26) w / 5 calls = 0.234 w per call. The
        # first window is 4 calls of 0.26 w; the last 2 calls fill none and are left out.
        times = [0.26 * w] * 4 + [0.13 * w] + [0.26 * w] * 4 + [0.26 * w] * 2
        self.assertAlmostEqual(windows.fastest_window(times) / w, 0.234)
        # Calls longer than a window are windows of their own.
        self.assertAlmostEqual(windows.fastest_window([3 * w, 2 * w, 4 * w]) / w, 2)
        # Too few calls to fill a window: their mean.
        self.assertAlmostEqual(windows.fastest_window([0.1 * w, 0.3 * w]) / w, 0.2)


class Isa(unittest.TestCase):
    def test_avx2_holds_each_library_to_avx2(self):
        opts = compare.parse_args(["--isa", "avx2"])
        _, nabla_env = compare.command_for("nabla", 1, ["conv"], opts, "nb")
        _, torch_env = compare.command_for("torch", (2, 1), ["conv"], opts, "nb")
        self.assertEqual(nabla_env["NABLA_ISA"], "avx2")
        self.assertEqual(torch_env["ONEDNN_MAX_CPU_ISA"], "AVX2")
        self.assertEqual(torch_env["ATEN_CPU_CAPABILITY"], "avx2")
        self.assertEqual(torch_env["OPENBLAS_NUM_THREADS"], "1")
        self.assertNotIn("NABLA_ISA", torch_env)
        self.assertNotIn("ONEDNN_MAX_CPU_ISA", nabla_env)

    def test_native_sets_no_instruction_set(self):
        opts = compare.parse_args([])
        for side, setting in (("nabla", 1), ("torch", (1, 1))):
            _, env = compare.command_for(side, setting, ["conv"], opts, "nb")
            self.assertEqual(env.get("NABLA_ISA"), os.environ.get("NABLA_ISA"))
            self.assertEqual(env.get("ONEDNN_MAX_CPU_ISA"), os.environ.get("ONEDNN_MAX_CPU_ISA"))


class Parsing(unittest.TestCase):
    def test_result_lines_are_parsed_and_others_ignored(self):
        text = ("# nabla threads=2\n@ sgemm/256 s=0.5 flop=3.3e7\nnoise\n"
                "@ xor s=2e-2 steps=5000 loss=0.01\n@ peak gflops=120.5\n")
        r = compare.parse_results(text)
        self.assertEqual(set(r), {"sgemm/256", "xor", "peak"})
        self.assertEqual(r["sgemm/256"], {"s": 0.5, "flop": 3.3e7})
        self.assertEqual(r["xor"]["steps"], 5000)
        self.assertEqual(r["peak"], {"gflops": 120.5})

    def test_malformed_field_is_an_error(self):
        with self.assertRaises(ValueError):
            compare.parse_results("@ conv/x s=1 oops\n")

    def test_median(self):
        self.assertEqual(compare.median([3, 1, 2]), 2)
        self.assertEqual(compare.median([4, 1, 3, 2]), 2.5)
        self.assertEqual(compare.median([None, 5]), 5)
        self.assertIsNone(compare.median([]))

    def test_speed_ratio(self):
        self.assertAlmostEqual(compare.speed_ratio(0.5, 2.0), 4.0)
        self.assertIsNone(compare.speed_ratio(None, 2.0))
        self.assertIsNone(compare.speed_ratio(1.0, None))


def made_up_measurements():
    """LeNet: nabla 1t 10 s, 2t 6 s; torch fastest at t2/b1 (4 s). Conv: nabla 2t faster than
    torch's better 2-thread setting. Repetitions vary so medians matter."""
    m = compare.Measurements()
    for seconds in (10.0, 11.0, 9.0):
        m.add("nabla", 1, {"lenet": {"s": seconds, "img": 60000},
                           "conv/a": {"s": 0.004, "flop": 1e9}})
    for seconds in (6.0, 5.0, 7.0):
        m.add("nabla", 2, {"lenet": {"s": seconds, "img": 60000},
                           "conv/a": {"s": 0.002, "flop": 1e9}})
    times = {(1, 1): 5.5, (2, 1): 4.0, (2, 2): 10.5, (1, 2): 5.6}
    for setting, seconds in times.items():
        for delta in (0.0, 0.3, -0.2):
            m.add("torch", setting, {"lenet": {"s": seconds + delta, "img": 60000},
                                     "conv/a": {"s": 0.003 if setting == (2, 2) else 0.006,
                                                "flop": 1e9}})
    for kb in (50 * 1024, 70 * 1024):
        m.add_rss("lenet", "nabla", 2, kb)
    m.add_rss("lenet", "nabla", 1, 60 * 1024)
    return m


class Pruning(unittest.TestCase):
    def test_slow_settings_are_not_repeated(self):
        first = {(1, 1): {"lenet": {"s": 6.0}}, (2, 1): {"lenet": {"s": 4.0}},
                 (2, 2): {"lenet": {"s": 10.0}}, (1, 2): {"lenet": {"s": 6.5}}}
        # t2/b2 is 2.5x the best and 2.5x the other 2-thread setting: dropped. t1/b2 is 1.6x
        # the best: dropped. t1/b1 is kept whatever its time.
        self.assertEqual(compare.torch_settings_to_repeat(first), {(1, 1), (2, 1)})

    def test_a_setting_fast_for_one_item_is_kept(self):
        first = {(1, 1): {"a": {"s": 1.0}, "b": {"s": 1.0}},
                 (2, 1): {"a": {"s": 0.5}, "b": {"s": 5.0}},
                 (2, 2): {"a": {"s": 5.0}, "b": {"s": 4.0}},  # within 1.5x of t2/b1 on b
                 (1, 2): {"a": {"s": 5.0}, "b": {"s": 5.0}}}
        self.assertEqual(compare.torch_settings_to_repeat(first), {(1, 1), (2, 1), (2, 2)})

    def test_failed_settings_are_not_repeated_but_1_thread_is(self):
        first = {(2, 1): {"x": {"s": 1.0}}}
        self.assertEqual(compare.torch_settings_to_repeat(first), {(1, 1), (2, 1)})


class Report(unittest.TestCase):
    def test_medians_best_settings_and_ratios(self):
        m = made_up_measurements()
        self.assertEqual(m.field("nabla", 1, "lenet"), 10.0)
        row = compare.Row(m, "lenet")
        self.assertEqual(row.tb_setting, (2, 1))
        self.assertEqual(row.tb, 4.0)
        self.assertEqual(row.nb_setting, 2)
        self.assertEqual(row.t2_setting, (2, 1))
        self.assertAlmostEqual(row.rb, 4.0 / 6.0)
        self.assertAlmostEqual(row.r1, 5.5 / 10.0)
        conv = compare.Row(m, "conv/a")
        self.assertEqual(conv.t2_setting, (2, 2))  # the faster of the two 2-thread settings
        self.assertAlmostEqual(conv.r2, 1.5)
        self.assertEqual(m.rss_mb("lenet", "nabla", 2), 70.0)  # the largest repetition

    class Opts:
        steps = 5000
        convnet_limit = 6400
        isa = "native"

    def test_targets_pass_and_fail(self):
        lines, targets = compare.report(made_up_measurements(), {}, self.Opts())
        verdict = {t.name: t.passed() for t in targets}
        self.assertFalse(verdict["LeNet-5 epoch, nabla best / PyTorch best"])  # 0.67x < 2x
        self.assertTrue(verdict["conv/a at 2 threads"])  # 1.5x >= 1.2x
        self.assertTrue(verdict["LeNet-5 training, nabla peak resident memory"])  # 70 <= 80 MB
        self.assertFalse(verdict["LeNet-5 epoch, nabla 2 threads / 1 thread"])  # 1.67 < 1.8
        text = "\n".join(lines)
        self.assertIn("t2/b1", text)
        self.assertIn("FAIL", text)
        self.assertIn("PASS", text)
        self.assertIn("of 4 targets pass", text)
        self.assertNotIn("2-core scaling", text)  # no pair of processes was run

    def test_each_2_thread_epoch_beside_its_core_to_core_latency(self):
        m = made_up_measurements()  # nabla's 2-thread LeNet-5 epochs: 6, 5, 7 s
        # The driver's cores item, renamed per unit, in each repetition's results.
        for results, ns in zip(m.runs[("nabla", 2)], (30.0, 170.0, 40.0)):
            results["cores/lenet"] = {"ns": ns}
        lines, _ = compare.report(m, {}, self.Opts())
        self.assertIn("nabla 2t epochs by repetition, with the core-to-core latency before each: "
                      "lenet 6.00 s (30 ns), 5.00 s (170 ns), 7.00 s (40 ns)", "\n".join(lines))
        # Without the probe (an older compare_nabla) the line is left out.
        lines, _ = compare.report(made_up_measurements(), {}, self.Opts())
        self.assertNotIn("by repetition", "\n".join(lines))

    def test_two_processes_at_once_against_one_alone(self):
        # The median 1-thread epoch is 10 s; two at once took 10 and 12.5 s (1.8x one alone)
        # and 20 and 20 s (1.0x): the machine's own scaling, printed beside the targets.
        self.assertEqual(compare.pair_scaling((10.0, 12.5), 10.0), 1.8)
        self.assertEqual(compare.pair_scaling((20.0, 20.0), 10.0), 1.0)
        self.assertIsNone(compare.pair_scaling((10.0, 12.5), None))
        m = made_up_measurements()  # 1-thread epochs 10, 11, 9 s; 2 threads 6, 5, 7 s
        m.pairs = [(10.0, 12.5), (22.0, 22.0), (9.0, 9.0)]
        lines, targets = compare.report(m, {}, self.Opts())
        text = "\n".join(lines)
        self.assertIn("2-core scaling", text)
        # Each repetition against its own 1-thread epoch: 10/10 + 10/12.5, 11/22 · 2, 9/9 · 2.
        self.assertIn("two processes 1.80x, 1.00x, 2.00x (median 1.80x); 2 threads 1.67x, 2.20x, "
                      "1.29x", text)
        # Waiting for the slower process: 2 · 10/12.5, 2 · 11/22, 2 · 9/9.
        self.assertEqual(compare.pair_step_bound((10.0, 12.5), 10.0), 1.6)
        self.assertIsNone(compare.pair_step_bound((10.0, None), 10.0))
        self.assertIn("a step that waits for the slower of the two processes (2 x alone / slower): "
                      "1.60x, 1.00x, 2.00x (median 1.60x)", text)
        self.assertEqual(len(targets), 4)  # a figure beside the targets, not one of them
        self.assertNotIn("the two processes' epochs", text)  # not pinned: no CPU to name
        # Pinned one to a CPU, each epoch names its CPU, and the slower's excess is printed.
        m.pair_cpus = (0, 1)
        text = "\n".join(compare.report(m, {}, self.Opts())[0])
        self.assertIn("the two processes' epochs, CPU 0 / CPU 1: 10.00 / 12.50 s, 22.00 / 22.00 s, "
                      "9.00 / 9.00 s; the slower 25%, 0%, 0% longer", text)

    def test_where_the_two_thread_epoch_went(self):
        # 1 thread: a 2 s epoch, 1.8 s of it in the slices. 2 threads: 1.25 s, the slices 1.1 s
        # of it with 2.0 s of work in them. Half of 2 s, + (2.0 - 1.8) / 2 of slower work,
        # + 1.1 - 2.0 / 2 of imbalance, + (1.25 - 1.1) - (2 - 1.8) / 2 outside: 1.25 s again.
        one = {"s": 2.0, "slices": 1.8, "work": 1.8, "gsum": 0.01, "opt": 0.02}
        two = {"s": 1.25, "slices": 1.1, "work": 2.0, "gsum": 0.02, "opt": 0.04}
        b = compare.thread_ratio_breakdown(one, two, (1.9, 2.1))
        self.assertAlmostEqual(b["half"], 1.0)
        self.assertAlmostEqual(b["slower"], 0.1)
        self.assertAlmostEqual(b["imbalance"], 0.1)
        self.assertAlmostEqual(b["outside"], 0.05)
        self.assertAlmostEqual(b["work_growth"], 2.0 / 1.8 - 1)
        self.assertAlmostEqual(b["pair_growth"], 2.0 / 1.8 - 1)  # the two processes' mean
        self.assertIsNone(compare.thread_ratio_breakdown({"s": 2.0}, two))  # an old binary
        m = made_up_measurements()  # its lenet lines carry no EpochTimes: no breakdown
        self.assertEqual(compare.breakdown_lines(m), [])
        m = compare.Measurements()
        for rep in range(2):  # another group's runs in between, as bench/compare adds them
            m.add("nabla", 1, {"sgemm/256": {"s": 0.001}})
            m.add("nabla", 1, {"lenet": dict(one)})
            m.add("nabla", 2, {"sgemm/256": {"s": 0.001}})
            m.add("nabla", 2, {"lenet": dict(two)})
        m.pairs, m.pair_work = [(2.0, 2.1)] * 2, [(1.9, 2.1), None]
        lines = compare.breakdown_lines(m)
        self.assertEqual(len(lines), 3)
        self.assertIn("rep 1: 1.250 s = half of 1 thread's 1.000 + the same work running slower "
                      "+0.100 (+11.1%; two 1-thread processes at once: +11.1%) + imbalance "
                      "+0.100 + outside the slices +0.050 (gradient sum 0.020, optimizer 0.040)",
                      lines[1])
        self.assertIn("running slower +0.100 (+11.1%) + imbalance", lines[2])  # no pair's work

    def test_issue_13_targets_for_layers_inference_convnet_and_peak(self):
        m = compare.Measurements()
        nabla = {"maxpool/p": 1.0, "batchnorm/b": 1.0, "cross_entropy/x": 1.0,
                 "infer/lenet_b256": 0.010, "infer/lenet_b1": 2e-5, "convnet": 8.0,
                 "mlp": 1.0, "sgemm/1024": 0.02}
        torch = {"maxpool/p": 1.2, "batchnorm/b": 1.6, "cross_entropy/x": 1.4,
                 "infer/lenet_b256": 0.016, "infer/lenet_b1": 1e-5, "convnet": 12.0,
                 "mlp": 2.6, "sgemm/1024": 0.02}
        for side, times in (("nabla", nabla), ("torch", torch)):
            for setting in (compare.NABLA_SETTINGS if side == "nabla" else
                            compare.TORCH_SETTINGS):
                m.add(side, setting, {item: {"s": s, "img": 256, "flop": 2 * 1024**3}
                                      for item, s in times.items()})
        # 2·1024³ flop in 0.02 s is 107 GFLOP/s: 107% of a 100 GFLOP/s 1-thread peak.
        lines, targets = compare.report(m, {1: 100.0, 2: 200.0}, self.Opts())
        verdict = {t.name: t.passed() for t in targets}
        self.assertFalse(verdict["maxpool/p, best / best"])  # 1.2x < 1.3x
        self.assertTrue(verdict["batchnorm/b, best / best"])  # 1.6x >= 1.5x
        self.assertFalse(verdict["cross_entropy/x, best / best"])  # 1.4x < 1.5x
        self.assertTrue(verdict["infer/lenet_b256 images/s, best / best"])  # 1.6x
        self.assertFalse(verdict["infer/lenet_b1 latency, PyTorch's / nabla's"])  # 2x slower
        self.assertTrue(verdict["convnet epoch, nabla best / PyTorch best"])  # 1.5x, inclusive
        self.assertTrue(verdict["MLP epoch, nabla best / PyTorch best"])  # 2.6x >= 2.5x
        self.assertFalse(verdict["SGEMM, largest fraction of the measured peak"])  # 107% > 100%
        self.assertFalse(verdict["SGEMM n=1024 nabla 2 threads, of peak"])  # 54% < 85%
        text = "\n".join(lines)
        self.assertIn("Inference latency, one image", text)
        self.assertIn("convnet: the first 6400 images", text)

    def test_sgemm_fraction_takes_the_fastest_call(self):
        # The peak probe reports its best round, so the GEMM's fraction takes its fastest window
        # of calls (over the repetitions), not its median: 2·1024³ flop in 0.024 s is 89.5% of
        # 100 GFLOP/s, where the medians (0.04 s) would give 53.7%.
        m = compare.Measurements()
        for fastest in (0.030, 0.024, 0.035):
            m.add("nabla", 1, {"sgemm/1024": {"s": 0.04, "fastest": fastest, "flop": 2 * 1024**3}})
            m.add("nabla", 2, {"sgemm/1024": {"s": 0.04, "fastest": fastest, "flop": 2 * 1024**3}})
        lines, targets = compare.report(m, {1: 100.0, 2: 200.0}, self.Opts())
        verdict = {t.name: t for t in targets}
        self.assertAlmostEqual(verdict["SGEMM n=1024 nabla 1 thread, of peak"].value,
                               2 * 1024**3 / 0.024 / 1e9 / 100.0)
        self.assertTrue(verdict["SGEMM n=1024 nabla 1 thread, of peak"].passed())
        self.assertFalse(verdict["SGEMM n=1024 nabla 2 threads, of peak"].passed())  # 44.7%
        self.assertIn(" 53.7%", "\n".join(lines))  # the median call's fraction, in brackets

    def test_threshold_is_inclusive(self):
        self.assertTrue(compare.Target("x", 2.0, ">=", 2.0).passed())
        self.assertTrue(compare.Target("m", 80.0, "<=", 80.0, "MB").passed())
        self.assertFalse(compare.Target("m", 80.1, "<=", 80.0, "MB").passed())
        self.assertIsNone(compare.Target("x", None, ">=", 1.0).passed())


class CpuDescription(unittest.TestCase):
    # KVM guests as the project's runs saw them: each names its CPU only "AMD EPYC".
    @staticmethod
    def cpuinfo(family, model, flags, vendor="AuthenticAMD", name="AMD EPYC"):
        return (f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: {family}\n"
                f"model\t\t: {model}\nmodel name\t: {name}\nflags\t\t: {flags}\n\n"
                "processor\t: 1\nmodel name\t: another block, not read\n")

    def test_amd_core_generation_and_vector_sets(self):
        describe = sys.modules["compare_run"].cpu_description
        avx512 = "fpu sse2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16"
        self.assertEqual(
            describe(self.cpuinfo(25, 17, avx512), 2),
            "AMD EPYC (family 25 model 17, Zen 4), 2 cores; vector instruction sets: avx2 fma "
            "avx512f avx512bw avx512dq avx512vl avx512_vnni avx512_bf16")
        self.assertIn("(family 26 model 2, Zen 5)", describe(self.cpuinfo(26, 2, avx512), 2))
        zen3 = describe(self.cpuinfo(25, 1, "fpu sse2 avx avx2 fma"), 2)
        self.assertIn("(family 25 model 1, Zen 3)", zen3)
        self.assertTrue(zen3.endswith("vector instruction sets: avx2 fma"), zen3)

    def test_other_vendors_and_old_cpus_keep_their_numbers(self):
        describe = sys.modules["compare_run"].cpu_description
        intel = describe(self.cpuinfo(6, 143, "avx2 fma avx512f", vendor="GenuineIntel",
                                      name="Intel(R) Xeon(R) Platinum 8480+"), 4)
        self.assertEqual(intel, "Intel(R) Xeon(R) Platinum 8480+ (family 6 model 143), 4 cores; "
                         "vector instruction sets: avx2 fma avx512f")
        self.assertTrue(describe(self.cpuinfo(6, 60, "sse2 avx"), 1).endswith(
            "vector instruction sets: none of avx2 fma"))


class NablaOnlyRun(unittest.TestCase):
    """The driver end to end with the real nabla program, on sizes that take seconds."""

    def run_driver(self, groups, reps):
        r = subprocess.run(
            [sys.executable, DRIVER, "--nabla-only", "--nabla", NABLA_BIN, "--only", groups,
             "--reps", str(reps), "--min-time", "0", "--sizes", "32,64", "--steps", "20",
             "--limit", "128", "--convnet-limit", "128"], capture_output=True, text=True,
            timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def test_kernel_groups_on_tiny_sizes(self):
        # The conv configurations keep their real sizes, so one repetition.
        r = self.run_driver("sgemm,conv,layers,infer", 1)
        for item in ["sgemm/32", "sgemm/64", "conv/N64_C1_28_K6_k5_p2",
                     "conv/N32_C64_32_K128_k3_p1_s2", "maxpool/N64_C6_28",
                     "batchnorm/N32_C64_32", "cross_entropy/N256_K1000", "infer/lenet_b256",
                     "infer/convnet_b1"]:
            self.assertIn(item, r.stdout)
        self.assertIn("fp32 peak of this CPU", r.stdout)
        self.assertIn("PyTorch not run", r.stdout)
        self.assertEqual(r.stderr.count("nabla 1t"), 1)
        self.assertEqual(r.stderr.count("nabla 2t"), 1)
        # Without PyTorch every ratio is missing, so every ratio target is "not measured".
        self.assertIn("not measured", r.stdout)

    def test_training_groups_twice_each(self):
        groups = "xor"
        have_data = os.path.isdir("/usr/share/datasets/fashion-mnist")
        if have_data:
            groups += ",lenet,mlp,convnet"
        r = self.run_driver(groups, 2)
        self.assertRegex(r.stdout, r"\n  xor +\d")
        # Each training group is its own process: two repetitions of each nabla setting.
        self.assertEqual(r.stderr.count("nabla 1t"), 2 * (1 + 3 * have_data))
        self.assertIn("Peak resident memory", r.stdout)
        # The probe before each 2-thread process, in the header.
        self.assertRegex(r.stdout, r"core-to-core latency before each nabla 2-thread run .*xor "
                                   r"\d+ \d+")
        if have_data:
            self.assertIn("nabla 2t epochs by repetition", r.stdout)
            self.assertRegex(r.stdout, r"lenet +\d+\.\d +\d+\.\d")
            self.assertIn("LeNet-5 training, nabla peak resident memory", r.stdout)
            self.assertRegex(r.stdout, r"\n  convnet +\d")
            # Each repetition also runs two 1-thread LeNet-5 processes at once.
            self.assertEqual(r.stderr.count("two 1-thread processes at once"), 2)
            self.assertIn("2-core scaling", r.stdout)

    def test_nabla_lines_parse(self):
        r = subprocess.run([NABLA_BIN, "peak", "cores", "sgemm", "xor", "--threads", "1",
                            "--min-time", "0", "--sizes", "16", "--steps", "10"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        res = compare.parse_results(r.stdout)
        # 0 only where the process may run on fewer than two CPUs.
        self.assertGreaterEqual(res["cores"]["ns"], 0)
        if len(os.sched_getaffinity(0)) >= 2:
            self.assertGreater(res["cores"]["ns"], 0)
        self.assertGreater(res["peak"]["gflops"], 1.0)
        self.assertGreater(res["sgemm/16"]["s"], 0)
        self.assertEqual(res["sgemm/16"]["flop"], 2 * 16**3)
        self.assertGreater(res["sgemm/16"]["fastest"], 0)
        self.assertEqual(res["xor"]["steps"], 10)

    def test_unknown_group_is_rejected(self):
        r = subprocess.run([sys.executable, DRIVER, "--nabla-only", "--nabla", NABLA_BIN,
                            "--only", "sgemm,lenet6"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("lenet6", r.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: compare_selftest.py PATH/TO/compare_nabla")
    NABLA_BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
