"""The resident memory of this process, for the benchmarks that report a peak (Linux /proc)."""


def rss_kb(field: str) -> int:
    """A field of /proc/self/status in kB: "VmRSS" (now) or "VmHWM" (the peak since the last reset)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak_rss() -> bool:
    """Resets VmHWM to the current RSS (Linux 4.0+); False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False
