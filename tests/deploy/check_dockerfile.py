"""The Dockerfile against the code: the build stage builds every product binary, and the runtime
stage installs every Debian package the binaries link (from `ldd` of the built ones).
check_deploy.py runs these checks."""
import functools
import os
import re
import shlex

from deploy_report import problem, run

# Every executable of the product (not the test and fuzz programs): the image carries them all.
BINARIES = ["hookstream-api", "hookstream-dispatcher", "hookstream-produce", "hookstream-sink",
            "hookstream-kafka-dev"]
# Packages debian:12-slim already has (libm is part of libc6).
BASE_IMAGE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1"}


def dockerfile_stages(path):
    """[(from_line, [(instruction, arguments)])] with continuations joined, comments dropped."""
    logical, current = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                current += line[:-1] + " "
                continue
            current += line
            if current.strip():
                logical.append(current.strip())
            current = ""
    stages = []
    for line in logical:
        instruction, _, args = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            stages.append((args.strip(), []))
        elif stages:
            stages[-1][1].append((instruction, args.strip()))
    return stages


def apt_packages(instructions):
    packages = []
    for instruction, args in instructions:
        if instruction != "RUN":
            continue
        tokens = shlex.split(args)
        for i, token in enumerate(tokens):
            if token == "install" and i > 0 and tokens[i - 1] in ("apt-get", "apt"):
                for t in tokens[i + 1:]:
                    if t in ("&&", "||", ";", "|") or t.endswith(";"):
                        break
                    if not t.startswith("-"):
                        packages.append(t)
    return packages


def deps_txt(source_dir):
    with open(os.path.join(source_dir, "scripts", "deps.txt")) as f:
        return {l.strip() for l in f if l.strip() and not l.strip().startswith("#")}


@functools.cache
def package_of(library_path):
    """The Debian package that ships a library (dpkg knows one spelling: /lib vs /usr/lib)."""
    candidates = [library_path, os.path.realpath(library_path)]
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib/"):
            candidates.append("/usr" + p)
    for p in candidates:
        result = run(["dpkg", "-S", p])
        if result.returncode == 0:
            return result.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def dependency_closure(packages):
    result = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                  "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"] + packages)
    if result.returncode != 0:
        problem("apt-cache depends failed for the runtime packages " + " ".join(packages) + ":\n    "
                + result.stderr.strip())
        return set(packages)
    return {line.strip("<> ").split(":")[0] for line in result.stdout.splitlines()
            if line and not line[0].isspace()}


def check_dockerfile(source_dir, bin_dir, api_port):
    path = os.path.join(source_dir, "Dockerfile")
    if not os.path.exists(path):
        problem("no Dockerfile at the repository root")
        return
    stages = dockerfile_stages(path)
    if len(stages) < 2:
        problem(f"Dockerfile: expected a build stage and a runtime stage, found {len(stages)}")
        return
    (build_from, build), (runtime_from, runtime) = stages[0], stages[-1]
    if not re.match(r"debian:12(\s|$)", build_from):
        problem(f"Dockerfile: the build stage is FROM {build_from}, expected debian:12")
    if not re.match(r"debian:12-slim(\s|$)", runtime_from):
        problem(f"Dockerfile: the runtime stage is FROM {runtime_from}, expected debian:12-slim")

    build_packages, runtime_packages = apt_packages(build), apt_packages(runtime)
    listed = deps_txt(source_dir)
    for pkg in build_packages:
        if pkg not in listed:
            problem(f"Dockerfile: the build stage installs {pkg}, which scripts/deps.txt (the one "
                    "list of packages) does not name")
    named = sorted(set(build_packages + runtime_packages))
    shown = run(["apt-cache", "show", "--no-all-versions", "libc6"] + named)
    known = {line.split(":", 1)[1].strip() for line in shown.stdout.splitlines()
             if line.startswith("Package:")}
    if "libc6" in known:
        for pkg in named:
            if pkg not in known:
                problem(f"Dockerfile: package {pkg} does not exist in this Debian's archive "
                        "(apt-cache show)")
    else:
        print("note: apt-cache has no package lists; package names not checked")
    if "ca-certificates" not in runtime_packages:
        problem("Dockerfile: the runtime stage does not install ca-certificates (HTTPS deliveries)")

    build_text = " ".join(a for i, a in build if i == "RUN")
    for needle in ["-G Ninja", "Release"] + BINARIES:
        if needle not in build_text:
            problem(f"Dockerfile: the build stage does not build with {needle!r}")
    copies = " ".join(a for i, a in runtime if i == "COPY")
    for binary in BINARIES:
        if binary not in copies or "/usr/local/bin" not in copies:
            problem(f"Dockerfile: the runtime stage does not copy {binary} to /usr/local/bin")
    users = [a for i, a in runtime if i == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problem("Dockerfile: the runtime stage must end as a non-root USER")
    exposed = " ".join(a for i, a in runtime if i == "EXPOSE").split()
    if api_port is not None and str(api_port) not in [p.split("/")[0] for p in exposed]:
        problem(f"Dockerfile: the runtime stage does not EXPOSE the API port {api_port}")

    provided = dependency_closure(runtime_packages) | BASE_IMAGE_PACKAGES if runtime_packages \
        else set(BASE_IMAGE_PACKAGES)
    missing = {}  # package -> (sonames, binaries)
    for binary in BINARIES:
        exe = os.path.join(bin_dir, binary)
        if not os.path.exists(exe):
            problem(f"{exe} does not exist; build it first (ninja {binary})")
            continue
        ldd = run(["ldd", exe])
        if ldd.returncode != 0:
            problem(f"ldd {exe} failed: {ldd.stderr.strip()}")
            continue
        for line in ldd.stdout.splitlines():
            m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line)
            if not m:
                continue  # vdso, the dynamic loader
            soname, lib = m.groups()
            if lib == "not":
                problem(f"{binary}: {soname} not found by ldd")
                continue
            pkg = package_of(lib)
            if pkg is None:
                problem(f"{binary}: {lib} belongs to no Debian package (dpkg -S); the image "
                        "cannot provide it")
            elif pkg not in provided:
                sonames, binaries = missing.setdefault(pkg, (set(), set()))
                sonames.add(soname)
                binaries.add(binary)
    for pkg, (sonames, binaries) in sorted(missing.items()):
        problem(f"Dockerfile: the runtime stage neither installs Debian package {pkg} nor gets it "
                f"as a dependency, but {', '.join(sorted(binaries))} link "
                f"{', '.join(sorted(sonames))} from it (ldd); add {pkg} to the runtime stage's "
                "apt-get install")
