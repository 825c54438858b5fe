"""The fastest window of a run of timed calls, for bench/compare_torch.py (compare_nabla.cpp's
time_calls does the same in C++); no PyTorch needed, so bench/compare's selftest imports it."""

# bench/fma_peak.h's kPeakRoundSeconds: the length of a peak probe round, and of the windows of
# consecutive calls that a GEMM's fastest time is taken over. The best of many short samples is
# faster than the best of fewer long ones on the same steady work, from timer and clock jitter
# alone, so both sides' best is over samples of the same length.
PEAK_ROUND_SECONDS = 0.004
# The sgemm group's least calls per setting (compare_nabla.cpp's kSgemmMinCalls): n = 2048 takes
# 40-165 ms a call, so min_time alone gave it 3 samples against the probe's 50 rounds.
SGEMM_MIN_CALLS = 12


def fastest_window(times):
    """The least time per call over runs of consecutive calls (`times`, seconds each, in order)
    of at least PEAK_ROUND_SECONDS each, a single call where one takes longer; the mean of all of
    them when they are too short to fill one window."""
    fastest, window, calls = None, 0.0, 0
    for t in times:
        window, calls = window + t, calls + 1
        if window >= PEAK_ROUND_SECONDS:
            per_call = window / calls
            fastest = per_call if fastest is None else min(fastest, per_call)
            window, calls = 0.0, 0
    return fastest if fastest is not None else window / calls
