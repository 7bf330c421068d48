#!/usr/bin/python3
"""Peer baseline for `npm run bench`'s contributions table: the training library's own
per-row feature contributions on one thread, on a fixture's model and test rows.
- xgboost: Booster.predict(DMatrix, pred_contribs=True) (Debian's python3-xgboost; /usr/bin/python3)
- lightgbm: LGBM_BoosterPredictForMat with C_API_PREDICT_CONTRIB through LightGBM's C library
  (pass --lib path/to/lib_lightgbm.so; numpy only)
Usage: native_contribs.py xgboost|lightgbm FIXTURE_DIR [--rows 2000] [--lib SO]
Prints one line: peer=... model=... batch_ns_per_row=... batch_cpu_ns_per_row=... single_us_per_call=...
(cpu: this process's CPU time, best round, steadier than wall time on a shared machine; single: one
row per call, including the Python call and, for XGBoost, building its DMatrix)."""
import ctypes, sys, time
import numpy as np

lib_name, d = sys.argv[1], sys.argv[2]
rows = int(sys.argv[sys.argv.index('--rows') + 1]) if '--rows' in sys.argv else 2000
X = np.genfromtxt(f'{d}/test.csv', delimiter=',', skip_header=1, dtype=np.float64)
X = np.ascontiguousarray(np.tile(X, (rows // len(X) + 1, 1))[:rows])
singles = min(rows, 300)

if lib_name == 'xgboost':
    import xgboost as xgb
    b = xgb.Booster(model_file=f'{d}/model.json')
    b.set_param({'nthread': 1})
    Xf = X.astype(np.float32)
    dm = xgb.DMatrix(Xf, nthread=1)
    batch = lambda: b.predict(dm, pred_contribs=True)
    one = lambda i: b.predict(xgb.DMatrix(Xf[i:i + 1], nthread=1), pred_contribs=True)
    peer = f'xgboost-pred_contribs-{xgb.__version__}'
else:
    so = sys.argv[sys.argv.index('--lib') + 1]
    lib = ctypes.CDLL(so)
    def ok(rc):
        if rc != 0:
            lib.LGBM_GetLastError.restype = ctypes.c_char_p
            sys.exit('lightgbm: ' + lib.LGBM_GetLastError().decode())
    booster, iters = ctypes.c_void_p(), ctypes.c_int()
    ok(lib.LGBM_BoosterCreateFromModelfile(f'{d}/model.txt'.encode(), ctypes.byref(iters), ctypes.byref(booster)))
    ncls = ctypes.c_int(); ok(lib.LGBM_BoosterGetNumClasses(booster, ctypes.byref(ncls)))
    width = ncls.value * (X.shape[1] + 1)
    out = np.empty(rows * width, dtype=np.float64); out_len = ctypes.c_int64()
    C_API_DTYPE_FLOAT64, C_API_PREDICT_CONTRIB = 1, 3
    def predict(n, ptr):
        ok(lib.LGBM_BoosterPredictForMat(booster, ptr, C_API_DTYPE_FLOAT64, ctypes.c_int32(n),
            ctypes.c_int32(X.shape[1]), 1, C_API_PREDICT_CONTRIB, 0, -1, b'num_threads=1',
            ctypes.byref(out_len), out.ctypes.data_as(ctypes.c_void_p)))
    batch = lambda: predict(rows, X.ctypes.data_as(ctypes.c_void_p))
    ptrs = [X[i].ctypes.data_as(ctypes.c_void_p) for i in range(singles)]
    one = lambda i: predict(1, ptrs[i])
    peer = 'lightgbm-pred_contrib-4.5.0'

batch()
best = best_cpu = 1e18
for _ in range(3):
    t, c = time.perf_counter(), time.process_time()
    batch()
    best, best_cpu = min(best, time.perf_counter() - t), min(best_cpu, time.process_time() - c)
for i in range(min(singles, 20)): one(i)
t = time.perf_counter()
for i in range(singles): one(i)
single = (time.perf_counter() - t) / singles
print(f'peer={peer} model={d.rstrip("/").split("/")[-1]} batch_ns_per_row={best / rows * 1e9:.0f} batch_cpu_ns_per_row={best_cpu / rows * 1e9:.0f} single_us_per_call={single * 1e6:.2f}')
