"""Run PaCo's benchmarks: ``python -m bench [SCENARIO] [--quick]``.

Scenarios: assistant, first-audio, chunk-latency, stack-floor, imports, dashboards, exports, burst,
soak, scale (default: all).
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from . import assistant, chunk_latency, dashboards, exports, first_audio, imports, scale, soak, stack_floor  # noqa: E402
from .stats import table  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    scenarios = ["all", "first-audio", "chunk-latency", "stack-floor", "assistant", "imports", "dashboards", "exports",
                 "burst", "soak", "scale"]
    parser.add_argument("which", nargs="?", default="all", choices=scenarios)
    parser.add_argument("--quick", action="store_true", help="fewer turns and shorter runs (a smoke test)")
    args = parser.parse_args()
    results = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.platform(),
               "cpus": __import__("os").cpu_count()}
    if args.which in ("all", "assistant"):
        fig = assistant.run(repeat=3 if args.quick else 20)
        results["assistant"] = fig
        print(f"\nAssistant steps before the LLM ({fig['kb_entries']} knowledge entries), ms")
        print(table([[name, round(fig[key]["median"], 3), round(fig[key]["p99"], 3), fig[key]["n"]]
                     for name, key in (("knowledge base load", "kb_load_ms"), ("retrieval (BM25) per question",
                                        "search_ms"), ("safety check per message", "safety_check_ms"))],
                    ["step", "median", "p99", "samples"]))
        print("\nKnowledge retrieval in participants' own words (heldout2: written before the last round, "
              "not used while tuning; heldout: seen)")
        print(table([[split, f"{r['top1_accuracy']:.1%}", r["top1"], f"{r['no_match_rate']:.1%}", r["no_match"]]
                     for split, r in fig["retrieval"].items()],
                    ["split", "top-1 right entry", "n", "honest no-match", "n"]))
        print("\nSafety screen: recall per category and false alarms, by message set")
        categories = [c for c in fig["safety"]["original"] if c != "false_alarm_rate"]
        print(table([[split, *(f"{fig['safety'][split][c]:.1%}" for c in categories),
                      f"{fig['safety'][split]['false_alarm_rate']:.1%}"] for split in fig["safety"]],
                    ["set", *categories, "false alarms"]))
    if args.which in ("all", "imports"):
        quick = {"ids": 10_000, "participants": 1_000, "days": 30, "orm_slice": 1_000}
        im = imports.run(**(quick if args.quick else {}))
        results["imports"] = im
        print(f"\nImports: {im['rows']['ids']:,} research IDs ({im['ids_mb']:.1f} MB), "
              f"{im['rows']['adherence']:,} adherence rows ({im['adherence_mb']:.1f} MB, percent), seconds")
        print(table([[engine, round(f["ids_s"], 2), round(f["ids_rerun_s"], 2), round(f["adherence_dry_s"], 2),
                      round(f["adherence_s"], 2), round(f["adherence_rerun_s"], 2),
                      round(f["ids_rss_mb"] + f["adherence_rss_mb"], 1), round(f["peak_rss_mb"])]
                     for engine, f in im["engines"].items()],
                    ["engine", "IDs", "IDs re-run", "adherence dry run", "adherence", "adherence re-run",
                     "RSS growth MB", "peak RSS MB"]))
        print(table([[engine, round(f["bulk_ids_per_s"]), round(f["orm_ids_per_s"]),
                      f"{f['bulk_ids_per_s'] / f['orm_ids_per_s']:.0f}x"] for engine, f in im["engines"].items()],
                    ["engine", "bulk import (IDs/s)", "one ORM object per row (IDs/s)", "ratio"]))
    if args.which in ("all", "dashboards"):
        dash = dashboards.run(**({"participants": 1_000, "repeats": 1} if args.quick else {}))
        results["dashboards"] = dash
        engines = list(dash["engines"])
        sizes = ", ".join(f"{e}: {f['counts']['research_ids']:,} participants, {f['counts']['messages']:,} messages, "
                          f"{f['counts']['turn_metrics']:,} turns" for e, f in dash["engines"].items())
        print(f"\nDashboards, server time per page (ms) over {len(dash['engines'][engines[0]]['filters'])} "
              f"filter sets ({sizes})")
        print(table([[name, *(f"{round(dash['engines'][e]['ms'][name]['p50'])} / "
                              f"{round(dash['engines'][e]['ms'][name]['p95'])}" for e in engines)]
                     for name in dash["engines"][engines[0]]["ms"]],
                    ["dashboard", *(f"{e} p50 / p95" for e in engines)]))
    if args.which in ("all", "exports"):
        ex = exports.run(**({"participants": 1_000} if args.quick else {}))
        results["exports"] = ex
        print(f"\nA full {ex['dataset']} export per format: seconds, resident memory (MB) once loaded and at its "
              "peak, and the growth")
        print(table([[engine, fmt, f["rows"] if not f["refused"] else f"refused: {f['refused']}", f["seconds"],
                      f["idle_mb"], f["peak_mb"], f["growth_mb"], f["zip_mb"]]
                     for engine, per in ex["engines"].items() for fmt, f in per.items()],
                    ["engine", "format", "rows", "s", "idle MB", "peak MB", "growth MB", "zip MB"]))
    if args.which in ("all", "burst"):
        b = soak.burst(size=20 if args.quick else 100, alone=3 if args.quick else 10)
        results["burst"] = b
        print(f"\nTurn starts under a burst: {b['size']} conversations starting in the same second (ms)")
        print(table([[who, what, b[who][key]["median"], b[who][key]["p95"], b[who][key]["n"]]
                     for who in ("alone", "burst") for what, key in (("first text", "first_text_ms"),
                                                                     ("first audio", "first_audio_ms"))],
                    ["conversations", "measure", "p50", "p95", "n"]))
        print(f"burst first text p50 - alone p50: {b['first_text_p50_over_alone_ms']} ms (target <= 100); "
              f"burst first audio p50 - floor ({b['floor_ms']} ms): {b['first_audio_p50_over_floor_ms']} ms "
              "(target <= 100)")
        cpu = soak.start_cpu(size=20 if args.quick else 100)
        results["burst"]["start_cpu"] = cpu
        print(f"worker CPU per turn start ({cpu['size']} at once, nothing streaming): {cpu['cpu_ms_per_start']} ms "
              f"(budget <= 10){'' if cpu['valid'] else ' (INVALID: took past the 3 s first token)'}")
    if args.which in ("all", "soak"):
        sk = soak.soak(**({"idle": 200, "streaming": 20, "seconds": 20} if args.quick else {}))
        results["soak"] = sk
        print(f"\nSoak: {sk['idle']} idle sockets + {sk['streaming']} streaming conversations for {sk['seconds']:g} s")
        print(table([[sk["sent"], sk["acknowledged"], sk["stored"], sk["turns"], sk["dropped"], sk["dropped_idle"],
                      sk["kb_per_idle_socket"]]],
                    ["sent", "acknowledged", "stored", "turns", "streaming dropped", "idle dropped",
                     "KB per idle socket"]))
    if args.which in ("all", "first-audio"):
        fa = first_audio.run(turns=12 if args.quick else 60, concurrency=4)
        results["first_audio"] = fa
        print("\nTime to first audio (ms), question sent -> first audio frame received")
        print(table([["PaCo sentence pipeline", fa["paco_ms"]["median"], fa["paco_ms"]["p95"], fa["paco_ms"]["n"]],
                     ["seed sequential design", fa["seed_ms"]["median"], fa["seed_ms"]["p95"], fa["seed_ms"]["n"]],
                     ["floor (first token + first sentence + TTS first byte)", fa["floor_ms"], "", ""]],
                    ["design", "median", "p95", "turns"]))
        print(f"speed-up (median): {fa['speedup_median']}x; above floor: median {fa['above_floor_median_ms']} ms, "
              f"p95 {fa['above_floor_p95_ms']} ms; turns without audio: {fa['turns_without_audio']}")
        sv = fa["server_ms"]
        print(f"as the server measured it (turn_metrics, from the frame's arrival): first token "
              f"{sv['first_token_median']}, first sentence {sv['first_sentence_median']}, first audio "
              f"{sv['first_audio_median']} (p95 {sv['first_audio_p95']}) ms")
    if args.which in ("all", "chunk-latency"):
        levels = (1, 100) if args.quick else chunk_latency.LEVELS
        rows = chunk_latency.run(levels=levels, duration=8 if args.quick else 20, warmup=3 if args.quick else 5)
        results["chunk_latency"] = rows
        results["capacity_p99_under_50ms"] = chunk_latency.capacity(rows)
        print(f"\nServer-added latency per chunk (stand-in emits -> client receives), one gevent worker, "
              f"{rows[0]['database']}")
        print(table([[r["conversations"], r["chunks"], r["p50_ms"], r["p99_ms"], r["max_ms"], r["turns"],
                      r["failures"] + r["unfinished"], r["server_cpu_pct"], r["standins_cpu_pct"],
                      r["client_cpu_pct"]] for r in rows],
                    ["conversations", "chunks", "p50 ms", "p99 ms", "max ms", "turns", "failed/unfinished",
                     "server CPU %", "stand-ins CPU %", "client CPU %"]))
        print(f"conversations one worker holds with p99 < 50 ms: {results['capacity_p99_under_50ms']}")
        # The figure: PaCo at 100 against the stack's floor measured in the same run, with
        # the safety gate as designed (the first sentence waits for the classifier, 100 ms after
        # the first token here) and with the classifier answering first (the relay alone).
        seconds = {"duration": 8 if args.quick else 40, "warmup": 3 if args.quick else 5}
        floor = [r for r in stack_floor.run(levels=(100,), **seconds) if r["http"].startswith("urllib3")][0]
        relay = chunk_latency.run(levels=(100,), classify_ms=0, **seconds)[0]
        gated = chunk_latency.run(levels=(100,), **seconds)[0]
        results["chunk_latency_vs_floor"] = {"floor": floor, "gated": gated, "relay": relay}
        print("\nServer-added latency per chunk at 100 conversations against the stack's floor, same run")
        print(table([[name, r["p50_ms"], r["p99_ms"], round(r["p50_ms"] / floor["p50_ms"], 1),
                      round(r["p99_ms"] / floor["p99_ms"], 1), r["server_cpu_pct"]]
                     for name, r in (("floor (Flask + flask-sock + SDK over urllib3)", floor),
                                     ("PaCo, classifier answers before the first token", relay),
                                     ("PaCo, classifier 100 ms after it (gate holds)", gated))],
                    ["", "p50 ms", "p99 ms", "p50 x floor", "p99 x floor", "server CPU %"]))
    if args.which in ("all", "stack-floor"):
        rows = stack_floor.run(levels=(1, 100), duration=8 if args.quick else 20, warmup=3 if args.quick else 5)
        results["stack_floor"] = rows
        print("\nThe stack's floor: Flask + flask-sock + the OpenAI SDK relaying the same streams, no PaCo work")
        print(table([[r["http"], r["conversations"], r["chunks"], r["p50_ms"], r["p99_ms"],
                      r["failures"] + r["unfinished"], r["server_cpu_pct"]] for r in rows],
                    ["HTTP under the SDK", "conversations", "chunks", "p50 ms", "p99 ms", "failed/unfinished",
                     "server CPU %"]))
    if args.which in ("all", "scale"):
        setups = scale.run(quick=args.quick)
        results["scale"] = setups
        for setup in setups:
            print(f"\nScale-out: {setup['instances']} instance(s) of one worker each, behind "
                  f"{setup['balancer']}, {setup['database']} + Redis")
            print(table([[r["conversations"], r["chunks"], r["p50_ms"], r["p99_ms"], r["max_ms"], r["turns"],
                          r["failures"] + r["unfinished"], r["server_cpu_pct"], r["nginx_cpu_pct"],
                          r["client_cpu_pct"]] for r in setup["streaming"]],
                        ["conversations", "chunks", "p50 ms", "p99 ms", "max ms", "turns", "failed/unfinished",
                         "PaCo CPU %", "nginx CPU %", "client CPU %"]))
            fa = setup["first_audio"]
            print(f"held with p99 < 50 ms: {setup['capacity_p99_under_50ms']}; first audio at {fa['simultaneous']} "
                  f"simultaneous starts: p50 {fa['p50_ms']} ms, p99 {fa['p99_ms']} ms "
                  f"({fa['turns']} turns, {fa['failures']} failed)")
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"\nfull results: {path}")


if __name__ == "__main__":
    main()
