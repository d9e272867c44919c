"""The benchmark harness (`make bench`, `python -m benchmarks`): every number is measured against the floor
that no implementation can beat on the same machine, in the same run, and reported as a ratio.

- cold init of every function of template.yaml (`coldstart.py`, the child process `init_probe.py`);
- warm latency and AWS calls of the HTTP flows through their handlers on a moto server (`flows.py`);
- the period-end applier (`applier.py`);
- the invoice PDF renderer (`pdf.py`);
- package sizes of `sam build`'s output (`packages.py`).

`report.py` writes docs/benchmarks.md. The sizes come from `Sizes` (`__main__.py`); the smoke test
(tests/integration/test_bench_smoke.py) runs everything at tiny sizes and asserts no timing."""
