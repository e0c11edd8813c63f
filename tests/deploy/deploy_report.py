"""What the deployment checks found (check_deploy.py and check_dockerfile.py add to it)."""
import subprocess

problems = []


def problem(message):
    problems.append(message)


def indent(text):
    return "\n".join("      " + line for line in text.splitlines())


def run(cmd, env=None, cwd=None):
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
