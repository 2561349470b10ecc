"""Builds wordembed._C: CPU kernels always, CUDA kernels when torch has CUDA and nvcc is found.

Environment: DEBUG=1 for -O0 -g; WORDEMBED_CPU_ONLY=1 to skip CUDA; CUDA_HOME to pick the toolkit;
TORCH_CUDA_ARCH_LIST to pick GPU architectures (default below); WORDEMBED_BUILD_SANITIZERS=1 adds
AddressSanitizer and UndefinedBehaviorSanitizer to the CPU code (scripts/sanitize.sh).
"""
import glob
import os
import re
import shutil
import subprocess

from setuptools import setup


def find_cuda_home():
    """The toolkit's real root: honours CUDA_HOME/CUDA_PATH, else asks nvcc itself.

    torch guesses the root as the parent of the folder holding `nvcc`, which is wrong when `nvcc`
    on PATH is a wrapper script (as in /usr/local/bin); nvcc's own dry run names the real root.
    """
    for var in ("CUDA_HOME", "CUDA_PATH"):
        if os.environ.get(var):
            return os.environ[var]
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        return "/usr/local/cuda" if os.path.exists("/usr/local/cuda/bin/nvcc") else None
    try:
        dry = subprocess.run([nvcc, "-v", "--dryrun", "-x", "cu", "-c", os.devnull, "-o", os.devnull],
                             capture_output=True, text=True, timeout=60).stderr
    except (OSError, subprocess.SubprocessError):
        dry = ""
    match = re.search(r"^#\$ TOP=(.+)$", dry, re.M)
    # TOP is the toolkit root itself, written as <root>/bin/..
    top = match.group(1).strip() if match else os.path.join(os.path.dirname(nvcc), "..")
    return os.path.realpath(top)


cuda_home = None if os.environ.get("WORDEMBED_CPU_ONLY") == "1" else find_cuda_home()
if cuda_home:
    os.environ["CUDA_HOME"] = cuda_home  # must be set before cpp_extension is imported

try:
    import torch  # noqa: E402
    from torch.utils.cpp_extension import BuildExtension, CppExtension, CUDAExtension  # noqa: E402
except ImportError:
    # pip's default build runs in a fresh environment without torch; the extension must be
    # compiled against the torch it will run with, so that one has to be visible.
    raise SystemExit("wordembed: building needs the torch it will run with: install torch first, then "
                     "pip install --no-build-isolation . (or -e .)") from None

here = os.path.dirname(os.path.abspath(__file__))
debug = os.environ.get("DEBUG", "0") == "1"
use_cuda = (cuda_home is not None and torch.version.cuda is not None
            and os.path.exists(os.path.join(cuda_home, "bin", "nvcc")))

# Without a GPU to query, torch would build for every architecture it knows; these cover Turing
# to Hopper natively (sm_86/89 run sm_80 code) and newer GPUs through the sm_90 PTX.
os.environ.setdefault("TORCH_CUDA_ARCH_LIST", "7.5;8.0;9.0+PTX")

sources = sorted(glob.glob(os.path.join("csrc", "*.cpp")) + glob.glob(os.path.join("csrc", "cpu", "*.cpp"))
                 + glob.glob(os.path.join("csrc", "corpus", "*.cpp")))
cxx_flags = ["-O0", "-g"] if debug else ["-O3"]
cxx_flags += ["-fopenmp"]  # at::parallel_for is OpenMP-backed in torch's builds
link_flags = ["-fopenmp"]
if os.environ.get("WORDEMBED_BUILD_SANITIZERS") == "1":
    sanitize = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined", "-g"]
    cxx_flags += sanitize
    link_flags += sanitize
extra_compile_args = {"cxx": cxx_flags}
if use_cuda:
    sources += sorted(glob.glob(os.path.join("csrc", "cuda", "*.cu")))
    extra_compile_args["nvcc"] = (["-O0", "-g", "-G"] if debug else ["-O3"]) + ["-lineinfo"]
    Extension = CUDAExtension
else:
    Extension = CppExtension

print(f"wordembed: building the {'CPU and CUDA' if use_cuda else 'CPU-only'} extension"
      + (f" (CUDA {torch.version.cuda}, toolkit {cuda_home}, arch {os.environ['TORCH_CUDA_ARCH_LIST']})"
         if use_cuda else
         f" (torch CUDA: {torch.version.cuda}, nvcc toolkit: {cuda_home})"))

# Name, version, dependencies and the command are in pyproject.toml; this adds the extension.
setup(
    ext_modules=[Extension(
        "wordembed._C",
        sources,
        include_dirs=[os.path.join(here, "csrc")],
        depends=sorted(glob.glob(os.path.join("csrc", "**", "*.h"), recursive=True)),
        extra_compile_args=extra_compile_args,
        extra_link_args=link_flags,
    )],
    cmdclass={"build_ext": BuildExtension},
)
