"""Which x86-64 instructions beyond the portable baseline a shared library contains (via ``objdump``).

The embedded runtime must run on any x86-64 machine of the kinds duress is used on, so its CPU
code may use x86-64-v3 (AVX2, FMA, F16C, BMI1/2, MOVBE) and nothing newer or vendor-specific. A
library built with ``-march=native`` on a recent CPU contains more, and dies with SIGILL on a machine
that lacks it, or that advertises it but does not allow it (AMX in some VMs). :func:`scan` counts
what is beyond the baseline, by family:

- ``avx512``: any EVEX-encoded instruction (first opcode byte 0x62 in 64-bit mode: AVX-512 and
  AVX10), read from the raw bytes, so no mnemonic list can miss one;
- ``amx``: tile instructions (``tileloadd``, ``tdpbssd``, ``ldtilecfg`` …);
- ``avx_vnni_ifma_ne``: the VEX-encoded AVX-VNNI, AVX-IFMA and AVX-NE-CONVERT instructions;
- ``amd_only``: FMA4, XOP and SSE4a, which Intel CPUs never had;
- ``other``: ADX, SHA, GFNI, VAES/VPCLMULQDQ — none is in x86-64-v3.

Used by the test that fails when the installed runtime would not run everywhere, and by
``benchmarks/runtime_builds.py``.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

_LINE = re.compile(r"^\s*[0-9a-f]+:\t((?:[0-9a-f]{2} )+)\s*(?:\t(\S+)(.*))?$")
_PREFIXES = {0x66, 0x67, 0xF2, 0xF3, 0x2E, 0x3E, 0x26, 0x36, 0x64, 0x65, 0xF0}
_AMX = re.compile(r"^(tile\w*|ldtilecfg|sttilecfg|tdp\w+|tcmm\w+|tmmul\w*|ttdp\w+|ttmmul\w*|tcvt\w+|tconj\w+)$")
_VEX_NEW = re.compile(r"^(vpdpbusds?|vpdpwssds?|vpdpb[su]{2}ds?|vpdpw[su]{2}ds?|vpmadd52[lh]uq|vcvtneps2bf16|"
                      r"vcvtne[eo](bf16|ph)2ps|vbcstne(bf16|sh)2ps)$")
_AMD_ONLY = re.compile(r"^(vfn?m(add|sub)(sub)?[ps][sd]|vfm(addsub|subadd)p[sd]|"  # FMA4 (FMA3 names carry 132/213/231)
                       r"vp(perm|cmov|rot\w|sha\w|shl[bwdq]|macs\w+|madcs\w+|com\w+)|vphaddu?(bw|bd|bq|wd|wq|dq)|"
                       r"vphsub(bw|wd|dq)|vfrcz\w+|vpermil2p[sd]|"  # XOP
                       r"extrq|insertq|movnts[sd])$")  # SSE4a
_OTHER = re.compile(r"^(adcx|adox|sha1\w*|sha256\w*|v?gf2p8\w*|vaes\w+|vpclmul\w*)$")


def classify(mnemonic: str, first_byte: int) -> str | None:
    """The family of one decoded instruction beyond x86-64-v3, or None."""
    if first_byte == 0x62:
        return "avx512"
    if _AMX.match(mnemonic):
        return "amx"
    if _VEX_NEW.match(mnemonic):
        return "avx_vnni_ifma_ne"
    if _AMD_ONLY.match(mnemonic):
        return "amd_only"
    if _OTHER.match(mnemonic):
        return "other"
    return None


def scan_text(disassembly: str) -> Counter[str]:
    """Instructions beyond x86-64-v3 in ``objdump -d --wide`` output, counted by family."""
    found: Counter[str] = Counter()
    for line in disassembly.splitlines():
        m = _LINE.match(line)
        if not m or not m.group(2):
            continue
        raw = [int(b, 16) for b in m.group(1).split()]
        first = next((b for b in raw if b not in _PREFIXES and not 0x40 <= b <= 0x4F), 0)
        mnemonic = m.group(2)
        if mnemonic in ("{vex}", "{evex}") and m.group(3):
            mnemonic = m.group(3).split()[0]
        family = classify(mnemonic, first)
        if family:
            found[family] += 1
    return found


def scan(library: Path) -> Counter[str]:
    """Instructions of ``library`` (a shared library or object file) beyond x86-64-v3, by family;
    empty when it runs on any x86-64-v3 CPU."""
    objdump = shutil.which("objdump")
    if objdump is None:
        raise RuntimeError("objdump is not installed (Debian: apt-get install binutils)")
    proc = subprocess.run([objdump, "-d", "--wide", str(library)], capture_output=True, text=True, check=True)
    return scan_text(proc.stdout)


def scan_distinct(libraries: list[Path]) -> dict[str, dict[str, int]]:
    """:func:`scan` of each distinct library (wheels hold ``libX.so``, ``.so.0`` and ``.so.0.N`` as copies),
    by file name: ``{name: {family: count}}``."""
    seen: set[str] = set()
    found: dict[str, dict[str, int]] = {}
    for p in libraries:
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            found[p.name] = dict(scan(p))
    return found
