#!/usr/bin/env python3
"""Runs the job of a CI recipe in podman the way its runner would: run_locally.py RECIPE ...

RECIPE is github-actions.yml (a GitHub Actions workflow of one job in a `container:`) or
gitlab-ci.yml (a GitLab CI job with an `image:`, docker executor). Like those runners, it
clones the checkout (with its uncommitted files, .ci/clone.sh) into the runner's
workspace path, starts the job's container from its image with the job's options and
the workspace mounted, restores the job's cache paths from CACHE (kept between runs),
and runs each step (GitHub: `run:`, in bash; GitLab: the whole `script`, in bash with
`set -eo pipefail`) with the runner's variables, stopping at the first that fails.
Two things differ, to run here: the host's CA bundle replaces the image's (as
in_root_image.sh does), and the network is the host's.
Run it where podman is: the build root (./bazelw --exec).
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

import yaml

WORKSPACE = Path(__file__).resolve().parent.parent.parent
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PROJECT = "team/app"  # the repository the runner believes it builds


class RecipeError(Exception):
    """The recipe asks for something this runner does not do: one line saying what."""


class Job:
    """What a runner needs of a recipe's job: image, options, variables, cache, steps."""

    def __init__(self, image: str, workdir: str, options: List[str], env: Dict[str, str],
                 caches: List[str], steps: List[tuple], scratch: List[str]) -> None:
        self.image, self.workdir, self.options = image, workdir, options
        self.env, self.caches, self.steps = env, caches, steps
        self.scratch = scratch  # directories the runner mounts empty for each job


def github(recipe: dict, variables: Dict[str, str], overrides: Dict[str, str], commit: str) -> Job:
    """The one job of a GitHub Actions workflow, as a runner in a container job sees it."""
    if len(recipe.get("jobs", {})) != 1:
        raise RecipeError("the workflow must have one job")
    (name, job), = recipe["jobs"].items()
    workdir = "/__w/%s/%s" % (PROJECT.split("/")[1], PROJECT.split("/")[1])
    contexts = {
        "github": {"repository": PROJECT, "actor": "ci", "event_name": "push", "ref": "refs/heads/main",
                   "sha": commit, "workspace": workdir},
        "secrets": {"GITHUB_TOKEN": "token-of-this-run"},
        "vars": variables,
    }

    def expand(text: str) -> str:
        def value(match: re.Match) -> str:
            context, _, key = match.group(1).partition(".")
            if context not in contexts or key not in contexts[context]:
                raise RecipeError("cannot evaluate ${{ %s }} (give it with --var NAME=VALUE)" % match.group(1))
            return contexts[context][key]
        return re.sub(r"\$\{\{\s*([A-Za-z_]+\.[A-Za-z_]+)\s*\}\}", value, str(text))

    env = {"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": workdir, "GITHUB_REPOSITORY": PROJECT,
           "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": commit,
           "RUNNER_TEMP": "/__w/_temp", "HOME": "/github/home"}
    env.update({k: expand(v) for k, v in {**recipe.get("env", {}), **job.get("env", {})}.items()})
    env.update(overrides)
    container = job.get("container") or {}
    shell = job.get("defaults", {}).get("run", {}).get("shell")
    if not container.get("image") or shell != "bash":
        raise RecipeError("job %s must run in a container: (image) with defaults.run.shell bash" % name)
    caches, steps = [], []
    for step in job["steps"]:
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@"):
            continue  # the runner's workspace is the clone
        if uses.startswith("actions/cache@"):
            caches += [p for p in step["with"]["path"].split("\n") if p]
        elif "run" in step and "if" not in step:
            step_env = {k: expand(v) for k, v in step.get("env", {}).items()}
            steps.append((step.get("name", step["run"].split("\n")[0]), expand(step["run"]), step_env))
        else:
            raise RecipeError("step %r: this runner does only checkout, cache and run steps" % step.get("name", uses))
    return Job(expand(container["image"]), workdir, shlex.split(expand(container.get("options", ""))),
               env, caches, steps, [env["RUNNER_TEMP"], env["HOME"]])


def gitlab(recipe: dict, variables: Dict[str, str], overrides: Dict[str, str], commit: str,
           privileged: bool) -> Job:
    """The one job of a .gitlab-ci.yml, as a docker executor sees it."""
    jobs = {k: v for k, v in recipe.items() if isinstance(v, dict) and "script" in v and not k.startswith(".")}
    if len(jobs) != 1:
        raise RecipeError("the pipeline must have one job")
    (name, job), = jobs.items()
    workdir = "/builds/" + PROJECT
    env = {"CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": workdir, "CI_PROJECT_PATH": PROJECT,
           "CI_COMMIT_SHA": commit, "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main",
           "CI_REGISTRY": "registry.example", "CI_REGISTRY_IMAGE": "registry.example/" + PROJECT,
           "CI_REGISTRY_USER": "gitlab-ci-token", "CI_REGISTRY_PASSWORD": "token-of-this-run"}
    env.update(variables)
    env.update({k: str(v) for k, v in {**recipe.get("variables", {}), **job.get("variables", {})}.items()})
    env.update(overrides)
    image = job.get("image") or recipe.get("image")
    image = image["name"] if isinstance(image, dict) else image
    if not image:
        raise RecipeError("job %s has no image:" % name)
    image = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: env.get(m.group(1), ""), image)
    caches = job.get("cache", {}).get("paths", [])
    script = "\n".join(job.get("before_script", []) + job["script"])
    return Job(image, workdir, ["--privileged"] if privileged else [], env, caches, [(name, script, {})], [])


def driver(steps: List[tuple]) -> str:
    """A bash script that runs each step in its own bash, with its own variables, in turn."""
    lines = []
    for index, (title, script, env) in enumerate(steps):
        header = "run_locally: step %d of %d: %s" % (index + 1, len(steps), title)
        variables = " ".join(shlex.quote("%s=%s" % item) for item in sorted(env.items()))
        lines += ["echo %s" % shlex.quote(header),
                  "env %s bash --noprofile --norc -eo pipefail -c %s || { status=$?; echo %s >&2; exit $status; }" % (
                      variables, shlex.quote(script), shlex.quote("run_locally: step %r failed" % title))]
    return "\n".join(lines) + "\n"


def run(job: Job, scratch: Path, cache: Path) -> int:
    """Runs JOB's steps in one container of its image; returns the first failing status.

    The runners start the container, then `docker exec` each step in it; podman's exec
    does not enter the container's mounts in the build root, so here the container's
    first process runs the steps instead, each as its own bash, as exec would.
    """
    mounts = ["--volume=%s:%s" % (scratch / "workspace", job.workdir), "--volume=%s:%s:ro" % (CA_BUNDLE, CA_BUNDLE)]
    for path in job.scratch:
        empty = scratch / path.strip("/").replace("/", "_")
        empty.mkdir()
        mounts.append("--volume=%s:%s" % (empty, path))
    for path in job.caches:
        kept = cache / re.sub(r"[^A-Za-z0-9]+", "_", path)
        kept.mkdir(parents=True, exist_ok=True)
        mounts.append("--volume=%s:%s" % (kept, os.path.join(job.workdir, path)))
    tls = ["--tls-verify=false"] if re.match(r"(localhost|127\.0\.0\.1)[:/]", job.image) else []
    variables = ["--env=%s=%s" % item for item in sorted(job.env.items())]
    return subprocess.run(["podman", "--runtime", "runc", "run", "--rm", "--network=host", *tls, *job.options,
                           *mounts, *variables, "--workdir", job.workdir, "--entrypoint", "bash", job.image,
                           "-c", driver(job.steps)], check=False).returncode


def pairs(values: Optional[List[str]]) -> Dict[str, str]:
    """NAME=VALUE options as a dict."""
    result = {}
    for value in values or []:
        key, sep, val = value.partition("=")
        if not sep:
            raise RecipeError("%r is not NAME=VALUE" % value)
        result[key] = val
    return result


def main(argv: List[str]) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     epilog="e.g. ./bazelw --exec %s/.ci/recipes/run_locally.py "
                                            "%s/.ci/recipes/gitlab-ci.yml --cache /var/tmp/ci-cache "
                                            "--var BAZELW_ROOT_IMAGE=REGISTRY/NAME@sha256:..." % (WORKSPACE, WORKSPACE))
    parser.add_argument("recipe", type=Path, help="github-actions.yml or gitlab-ci.yml")
    parser.add_argument("--cache", type=Path, required=True, help="where the job's cache paths are kept between runs")
    parser.add_argument("--var", action="append", help="NAME=VALUE: a variable set in the project's CI settings")
    parser.add_argument("--env", action="append", help="NAME=VALUE: replaces a variable of the recipe or the runner")
    parser.add_argument("--privileged", action="store_true", help="GitLab: a runner with privileged = true")
    args = parser.parse_args(argv)
    try:
        recipe = yaml.safe_load(args.recipe.read_text())
        commit = subprocess.run(["git", "-C", str(WORKSPACE), "rev-parse", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        if "jobs" in recipe:
            job = github(recipe, pairs(args.var), pairs(args.env), commit)
        else:
            job = gitlab(recipe, pairs(args.var), pairs(args.env), commit, args.privileged)
    except (RecipeError, OSError, yaml.YAMLError) as error:
        print("run_locally: %s" % error, file=sys.stderr)
        return 2
    args.cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.cache.parent) as scratch:
        subprocess.run([str(WORKSPACE / ".ci" / "clone.sh"), str(Path(scratch) / "workspace")], check=True)
        return run(job, Path(scratch), args.cache)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
