"""ctypes views of a linked kernel library (ours or upstream's) with one calling convention:
argument values in the kernel's C order, pointers as addresses, every entry point returning
its CUresult."""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from pathlib import Path

from build import UPSTREAM_PREFIX, UpstreamVariant
from kernels import UNIT, Kernel, Specialisation

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from ttlink.metadata import DIRECTIVE, KernelMeta, parse_line  # noqa: E402

_CTYPES = {"i32": ctypes.c_int32, "i64": ctypes.c_int64, "u32": ctypes.c_uint32, "fp32": ctypes.c_float}


def _ctype(triton_type: str) -> type:
    return ctypes.c_uint64 if triton_type.startswith("*") else _CTYPES[triton_type]


@dataclass(frozen=True)
class Algo:
    config_index: int
    function: str  # `{name}_{algo}`: tries its variants, most specialised first
    algo_id: int  # its number in `{name}(stream, args, algo_id)`
    specs: tuple[str, ...]  # the specialisations linked into it


class LinkedLibrary:
    """One linked library: its dispatcher, its per-algo functions and its variants."""

    def __init__(
        self, label: str, path: Path, kernel: Kernel, name: str, variants: dict[tuple[int, str], str], algos: list[Algo]
    ):
        self.label = label
        self.kernel = kernel
        self.name = name
        self.variants = variants  # (config index, specialisation name) -> entry point
        self.algos = algos
        self._lib = ctypes.CDLL(str(path))
        self._full = [ctypes.c_void_p] + [_ctype(ty) for _, ty in kernel.args]
        self._functions: dict[str, ctypes._CFuncPtr] = {}

    def _function(self, symbol: str, argtypes: list) -> ctypes._CFuncPtr:
        """The entry point SYMBOL; each symbol has one signature, so it is typed once."""
        if symbol not in self._functions:
            function = getattr(self._lib, symbol)
            function.argtypes = argtypes
            function.restype = ctypes.c_int
            self._functions[symbol] = function
        return self._functions[symbol]

    def dispatch(self, stream: int, values: tuple, algo_id: int) -> int:
        return self._function(self.name, self._full + [ctypes.c_int])(stream, *values, algo_id)

    def default(self, stream: int, values: tuple) -> int:
        return self._function(f"{self.name}_default", self._full)(stream, *values)

    def algo(self, algo: Algo, stream: int, values: tuple) -> int:
        return self._function(algo.function, self._full)(stream, *values)

    def variant(self, config_index: int, spec: Specialisation, stream: int, values: tuple) -> int:
        """Calls one variant directly: the `:1` arguments are not part of its signature."""
        kept = [i for i, hint in enumerate(spec.hints) if hint != UNIT]
        argtypes = [ctypes.c_void_p] + [self._full[1 + i] for i in kept]
        function = self._function(self.variants[config_index, spec.name], argtypes)
        return function(stream, *(values[i] for i in kept))

    def pointer_variable(self, name: str) -> ctypes.c_void_p:
        """A global pointer the library exports, e.g. upstream's `{variant}_func` CUfunction."""
        return ctypes.c_void_p.in_dll(self._lib, name)

    def num_algos(self) -> int:
        return self._function(f"{self.name}_get_num_algos", [])()


def variant_meta(header: Path) -> KernelMeta:
    """The ttlink-meta line of a header `ttlink compile` wrote: entry point, targets, ..."""
    lines = header.read_text().splitlines()
    (number,) = [n for n, line in enumerate(lines, 1) if line.startswith(DIRECTIVE)]
    return parse_line(lines[number - 1], str(header), number)


def load_ours(path: Path, kernel: Kernel, ours_dir: Path, label: str, specs: tuple[str, ...] = ()) -> LinkedLibrary:
    """Variant entry points from each header's ttlink-meta line; algo numbers from the
    library's own `{name}_get_algo_name`. SPECS: the specialisations linked in (default all)."""
    variants = {}
    for index in range(len(kernel.configs)):
        for spec in kernel.specialisations:
            if specs and spec.name not in specs:
                continue
            header = ours_dir / kernel.out_name / f"{kernel.variant_stem(index, spec)}.h"
            variants[index, spec.name] = variant_meta(header).symbol
    library = LinkedLibrary(label, path, kernel, kernel.out_name, variants, [])
    get_name = library._function(f"{kernel.out_name}_get_algo_name", [ctypes.c_int])
    get_name.restype = ctypes.c_char_p
    specs = specs or tuple(s.name for s in kernel.specialisations)
    for algo_id in range(library.num_algos()):
        algo_name = get_name(algo_id).decode()
        (index,) = [i for i, config in enumerate(kernel.configs) if config.name == algo_name]
        library.algos.append(Algo(index, f"{kernel.out_name}_{algo_name}", algo_id, specs))
    library.algos.sort(key=lambda a: a.config_index)
    return library


def load_upstream(path: Path, kernel: Kernel, built: list[UpstreamVariant], label: str) -> LinkedLibrary:
    """link.py numbers algos in the order their headers were given: the table's order."""
    variants = {(v.config_index, v.spec): v.symbol for v in built}
    algos: dict[str, Algo] = {}
    for v in built:
        if v.algo_function not in algos:
            algos[v.algo_function] = Algo(v.config_index, v.algo_function, len(algos), ())
        algo = algos[v.algo_function]
        algos[v.algo_function] = Algo(algo.config_index, algo.function, algo.algo_id, algo.specs + (v.spec,))
    name = UPSTREAM_PREFIX + kernel.out_name
    return LinkedLibrary(label, path, kernel, name, variants, list(algos.values()))
