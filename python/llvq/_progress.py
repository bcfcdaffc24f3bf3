"""Progress reporting for long calls: a callback, a tqdm bar, or plain lines on stderr.

Every long function takes ``progress``:

- ``False`` or ``None``: silent;
- ``True`` (the default): tqdm bars when tqdm is installed (``tqdm.auto`` draws widgets in
  Jupyter and text bars in a terminal), otherwise one line per update on ``sys.stderr``
  (redrawn in place on a terminal);
- a callable ``progress(stage, done, total, detail)``: called on the calling thread after
  each step, e.g. ``("quantize", 3, 35, "blk.0.attn_v.weight")``. An exception it raises
  aborts the computation and propagates.
"""
import sys
import time


class _Lines:
    """Fallback without tqdm: stderr lines, one per update, in place on a terminal."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.start = {}

    def __call__(self, stage, done, total, detail):
        t0 = self.start.setdefault(stage, time.monotonic())
        elapsed = time.monotonic() - t0
        msg = f"{stage} {done}/{total}  {elapsed:.1f}s  {detail}"
        if self.tty:
            sys.stderr.write("\r\033[K" + msg + ("\n" if done >= total else ""))
        else:
            sys.stderr.write(msg + "\n")
        sys.stderr.flush()

    def close(self):
        pass


class _Bars:
    """One tqdm bar per stage (calibration, quantize, perplexity)."""

    def __init__(self, tqdm):
        self.tqdm = tqdm
        self.bars = {}

    def __call__(self, stage, done, total, detail):
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = self.tqdm(total=total, desc=stage, leave=True)
        bar.update(done - bar.n)
        if detail:
            bar.set_postfix_str(detail, refresh=False)

    def close(self):
        for bar in self.bars.values():
            bar.close()


class _Callback:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, stage, done, total, detail):
        self.fn(stage, done, total, detail)

    def close(self):
        pass


def reporter(progress):
    """The callable handed to the C++ code for ``progress`` (None when silent)."""
    if progress is None or progress is False:
        return None
    if callable(progress):
        return _Callback(progress)
    if progress is not True:
        raise ValueError("progress must be True, False, None or a callable(stage, done, total, detail)")
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Lines()
    return _Bars(tqdm)


class Reporting:
    """Context manager: ``with Reporting(progress) as cb: core_call(..., progress=cb)``."""

    def __init__(self, progress):
        self.cb = reporter(progress)

    def __enter__(self):
        return self.cb

    def __exit__(self, *exc):
        if self.cb is not None:
            self.cb.close()
        return False
