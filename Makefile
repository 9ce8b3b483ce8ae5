# Two commands do all the set-up on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# Headless-safe defaults for the tests; the app picks its own for a desktop.
TEST_ENV := SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy MUJOCO_GL=egl PYOPENGL_PLATFORM=egl

.PHONY: run test lint bench clean sysdeps

# Software GL for offscreen rendering: EGL ships with the OS image; OSMesa is the fallback
# renderer (MUJOCO_GL=osmesa). Installed when missing and we may (root with apt-get).
sysdeps:
	@ldconfig -p 2>/dev/null | grep -q libOSMesa || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing libosmesa6 (software OpenGL for MuJoCo)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libosmesa6) >/dev/null \
	      || echo "note: could not install libosmesa6; OSMesa tests will be skipped"; \
	  else echo "note: libosmesa6 missing; OSMesa tests will be skipped (sudo apt-get install libosmesa6)"; fi; }
	@command -v Xvfb >/dev/null && command -v xdotool >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing xvfb and xdotool (the real-X-key-events test)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb xdotool) >/dev/null \
	      || echo "note: could not install xvfb/xdotool; the X11 test will be skipped"; \
	  else echo "note: xvfb/xdotool missing; the X11 test will be skipped (sudo apt-get install xvfb xdotool)"; fi; }

# Re-install only when pyproject.toml changed (or the venv is missing).
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,bench,log,ray]"
	@touch $(STAMP)

run: $(STAMP)
	$(PY) launch.py

test: $(STAMP) sysdeps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(TEST_ENV) $(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check . && $(PY) -m ruff format --check . && $(PY) -m mypy

clean:
	rm -rf $(VENV) .pytest_cache
