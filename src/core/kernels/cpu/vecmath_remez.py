# Fits the polynomials of vecmath_kernel.h: a Remez exchange in 60-digit decimal arithmetic
# (the standard library only), minimising the largest absolute error of a polynomial of the
# given degree to one function on the reduced interval.
#   python3 vecmath_remez.py exp 4     # float's P(r) in e^r = 1 + r + r^2 P(r), |r| <= ln2/2
#   python3 vecmath_remez.py exp 10    # double's
#   python3 vecmath_remez.py log 2|6   # R(z)/z in log(1+f) = f - (f^2/2 - s(f^2/2 + R)), z = s^2
#   python3 vecmath_remez.py tanh 5|11 # Q(w) in tanh x = x + x w Q(w), w = x^2 <= 0.625^2
# Prints the largest error and the coefficients, lowest degree first.
from decimal import Decimal as D, getcontext
import math
getcontext().prec = 60

def solve(A, b):
    n = len(b)
    M = [row[:] + [b[i]] for i, row in enumerate(A)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(M[r][c]))
        M[c], M[p] = M[p], M[c]
        for r in range(n):
            if r != c:
                f = M[r][c] / M[c][c]
                for k in range(c, n + 1):
                    M[r][k] -= f * M[c][k]
    return [M[i][n] / M[i][i] for i in range(n)]

def peval(c, x):
    s = D(0)
    for a in reversed(c):
        s = s * x + a
    return s

def remez(f, a, b, deg, iters=12, grid=3000):
    a, b = D(a), D(b)
    n = deg + 2
    pi = D(str(math.pi))
    xs = [(a + b) / 2 - (b - a) / 2 * D(str(math.cos(math.pi * i / (n - 1)))) for i in range(n)]
    G = [a + (b - a) * i / grid for i in range(grid + 1)]
    FG = [f(x) for x in G]
    for it in range(iters):
        A = [[x ** j for j in range(deg + 1)] + [D(-1) ** i] for i, x in enumerate(xs)]
        sol = solve(A, [f(x) for x in xs])
        c, E = sol[:-1], sol[-1]
        err = [peval(c, x) - fx for x, fx in zip(G, FG)]
        # extrema of each constant-sign run
        segs = []
        cur = None
        for i, e in enumerate(err):
            s = e >= 0
            if cur is None or s != cur[0]:
                cur = [s, i]
                segs.append(cur)
            elif abs(e) > abs(err[cur[1]]):
                cur[1] = i
        idx = [s[1] for s in segs]
        while len(idx) > n:
            # drop the smaller end
            if abs(err[idx[0]]) < abs(err[idx[-1]]): idx.pop(0)
            else: idx.pop()
        if len(idx) < n:
            break
        xs = [G[i] for i in idx]
        maxerr = max(abs(e) for e in err)
    return c, maxerr, abs(E)

def exp_p(r):  # (e^r - 1 - r) / r^2
    s, t = D(0), D(1) / 2
    for k in range(2, 40):
        s += t
        t = t * r / (k + 1)
    return s

def log_p(z):  # (2 atanh(s)/s - 2) / z, z = s^2
    return sum(2 * z ** (k - 1) / (2 * k + 1) for k in range(1, 40))

def tanh_p(w):  # (tanh(sqrt w)/sqrt w - 1)/w
    t = w.sqrt()
    e = (2 * t).exp()
    th = (e - 1) / (e + 1)
    return (th / t - 1) / w

import sys
ln2h = D(2).ln() / 2
zmax = ((D(2).sqrt() - 1) / (D(2).sqrt() + 1)) ** 2
jobs = {
  'exp': (exp_p, -ln2h, ln2h),
  'log': (log_p, D('1e-30'), zmax),
  'tanh': (tanh_p, D('1e-12'), D('0.625') ** 2),
}
name, deg = sys.argv[1], int(sys.argv[2])
f, a, b = jobs[name]
c, m, E = remez(f, a, b, deg)
print(name, deg, 'maxerr %.3e levelled %.3e' % (float(m), float(E)))
for x in c:
    print('  %.20e' % float(x), ' # ', x)
