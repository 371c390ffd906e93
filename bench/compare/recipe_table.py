#!/usr/bin/python3
"""bench/compare/recipe.sh's table: one row per tool from the records of a
ptrain run and a torch_recipe.py run of the same recipe, after checking
that the two ran the same recipe.

Usage: recipe_table.py DIR LABEL
DIR holds init.json (the final event of `ptrain train -epochs 0 -json`),
ptrain.jsonl and torch.jsonl (their JSON lines), and ptrain.time and
torch.time (GNU time's "%e %U %S %M": wall s, user s, system s, peak RSS
KiB, of each whole process). LABEL names the recipe in the rows.

The checks, each an error (exit 1) that names what differs:
- the twin's test loss on the initial weights equals ptrain's (relative
  1e-5: same weights, same test images, same evaluation);
- both ran the same number of epochs, and every epoch's last learning rate
  is the same (relative 1e-9: the same schedule over the same steps per
  epoch).

Columns: epochs; test accuracy after the last epoch, and the best after
any epoch (with its epoch); train s, the sum of the epochs' training time
(test evaluation excluded); wall s and CPU s (user + system) of the whole
process (loading, evaluations and, for ptrain, the checkpoint of every
epoch included); samples/s, training samples per second of train s; peak
RSS. Then a line per tool with its test accuracy (%) after each epoch.
"""
import json
import os
import sys


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def gnu_time(path):
    """(wall, cpu, rss MiB) from the last line of a GNU time -f '%e %U %S %M' file."""
    with open(path) as f:
        wall, user, sys_, rss = f.read().split("\n")[-2].split()
    return float(wall), float(user) + float(sys_), int(rss) / 1024


def fail(msg):
    print(f"recipe_table.py: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 3:
        print("usage: recipe_table.py DIR LABEL", file=sys.stderr)
        sys.exit(2)
    d, label = sys.argv[1], sys.argv[2]
    init = records(os.path.join(d, "init.json"))[-1]
    p = [r for r in records(os.path.join(d, "ptrain.jsonl")) if r.get("event") == "epoch"]
    t = records(os.path.join(d, "torch.jsonl"))
    t0 = next(r for r in t if r["event"] == "init")
    tfinal = next(r for r in t if r["event"] == "final")
    t = [r for r in t if r["event"] == "epoch"]

    if abs(t0["test_loss"] - init["test_loss"]) > 1e-5 * abs(init["test_loss"]):
        fail(f"the initial weights' test loss is {init['test_loss']:.9g} in ptrain and {t0['test_loss']:.9g} in its "
             "PyTorch twin: the twin does not start where ptrain does")
    if len(p) != len(t):
        fail(f"ptrain ran {len(p)} epochs, PyTorch {len(t)}")
    for a, b in zip(p, t):
        if abs(a["lr"] - b["lr"]) > 1e-9 * abs(a["lr"]) + 1e-15:
            fail(f"epoch {a['epoch']}: the last learning rate is {a['lr']!r} in ptrain and {b['lr']!r} in PyTorch: "
                 "not the same schedule or steps per epoch")

    rows, history = [], []
    for tool, name, eps, acc_key, samples in (
            ("ptrain", "ptrain", p, "val_accuracy", sum(r["samples_per_sec"] * r["epoch_s"] for r in p)),
            ("pytorch", "torch", t, "test_accuracy", tfinal["samples_per_sec"] * tfinal["train_s"])):
        wall, cpu, rss = gnu_time(os.path.join(d, name + ".time"))
        train_s = sum(r["epoch_s"] for r in eps)
        best = max(eps, key=lambda r: r[acc_key])
        rows.append((label, tool, str(len(eps)), f"{100 * eps[-1][acc_key]:.2f}%",
                     f"{100 * best[acc_key]:.2f}% (ep {best['epoch']})", f"{train_s:.1f}", f"{wall:.1f}",
                     f"{cpu:.1f}", f"{samples / train_s:,.0f}", f"{rss:.0f} MiB"))
        history.append(f"# {tool} test accuracy per epoch: " + " ".join(f"{100 * r[acc_key]:.2f}" for r in eps))
    head = ("recipe", "tool", "epochs", "test acc", "best test acc", "train s", "wall s", "CPU s", "samples/s", "peak RSS")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    print("\n".join(history))


if __name__ == "__main__":
    main()
