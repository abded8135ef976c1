#!/usr/bin/env bash
# The demo job (until the study pipeline lands): plan the syntheses of the two studies.
# Run through `make demo`, which puts .venv/bin first on PATH.
set -euo pipefail

say() { printf '\n== %s ==\n' "$1"; }

say "Argyrodite Li5.5PS4.5Cl0.8Br0.7, 2 g batch (EES Batteries 2026)"
ssbkit synth recipe Li5.5PS4.5Cl0.8Br0.7 --precursors Li2S,P2S5,LiCl,LiBr --batch-g 2

say "Li2TiS3 cathode, 2 g batch"
ssbkit synth recipe Li2TiS3 --precursors Li2S,TiS2 --batch-g 2

say "Li2S-LiI 3:1 mixture, 1 g batch (Nat. Commun. 2021)"
ssbkit synth recipe "(Li2S)0.75(LiI)0.25" --precursors Li2S,LiI --batch-g 1

say "Milling design: FRB 5/10/20 % x BMR 20/40/80:1, 50 mL jar, 10 mm WC balls"
ssbkit mill grid --jar-ml 50 --ball-diameter-mm 10 --ball-material WC \
    --frb 5%,10%,20% --bmr 20,40,80 \
    --rpm 400 --time-h 10 --plate-radius-mm 70 --jar-radius-mm 22.5

say "The same grid in the bulk (ball-bed) convention"
ssbkit mill grid --jar-ml 50 --ball-diameter-mm 10 --ball-material WC \
    --frb 5%,10%,20% --bmr 20,40,80 --convention bulk
