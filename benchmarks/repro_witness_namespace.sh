#!/bin/bash
# Issue #12, attack round 5 (2f-ns, 2f-rw, 2f-doc) replayed against the witness SERVICE, with two
# ordinary accounts: the analyst (uid 12345) and the witness (uid 12346). Not a unit test: it needs
# root to set up the accounts (setpriv) and `unshare -rm` for the analyst. Fictitious data only.
#
#   sudo benchmarks/repro_witness_namespace.sh [SCENE_DIR]      (default /tmp/repro-witness)
#
# The administrator (root here) makes the witness's key and store (uid 12346, mode 0700), starts
# `release witness serve` as uid 12346 and pins its socket and public key in the organisation's
# rules (read-only to the analyst). Every `release` command below runs as uid 12345, through the
# system python with the worktree's venv on PYTHONPATH (the venv's own interpreter is under /root).
# The reviewer's key is given to uid 12345 only so that approve/publish can run as it: what they
# check does not depend on who runs them.
set -u
[ "$(id -u)" = 0 ] || { echo "needs root (setpriv to two uids); skipped"; exit 0; }
command -v unshare >/dev/null && command -v setpriv >/dev/null || { echo "needs unshare and setpriv; skipped"; exit 0; }
REPO=$(cd "$(dirname "$0")/.." && pwd)
R=${1:-/tmp/repro-witness}
ANALYST=12345 WITNESS=12346
PP="$REPO:$REPO/.venv/lib/python3.11/site-packages"
PY=/usr/bin/python3
if [ -f "$R/witness.pid" ] && grep -q "witness.serve" "/proc/$(cat "$R/witness.pid")/cmdline" 2>/dev/null; then
  kill "$(cat "$R/witness.pid")"  # this script's own service from an earlier run
fi
rm -rf "$R"; mkdir -p "$R"; chmod 755 "$R"; cd "$R" || exit 1
KEY=$($PY -c 'import secrets; print(secrets.token_hex(32))')
as_user() { local uid=$1; shift; setpriv --reuid "$uid" --regid "$uid" --clear-groups "$@"; }
A() {  # the tool, as the analyst
  as_user $ANALYST env HOME="$R/home" PYTHONPATH="$PP" RELEASE_HMAC_KEY="$KEY" $PY -m release "$@"; }
rc() { "$@" > "$R/last.out" 2>&1; echo $?; }
said() { tr -s ' \n' ' ' < "$R/last.out" | grep -o "$1[^;.]*" | head -1 | cut -c1-150; }
charges() { $PY -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from entries where kind='charge'\").fetchone()[0])" "$1"; }
table() { local f="$1/fioe/$2/public/tables/fioe_people_by_contacts_neighbourhood.csv"
  if [ -f "$f" ]; then md5sum "$f" | cut -c1-8; else echo none; fi; }
ROWS=()
codes=""
row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }

# ---- the administrator: the witness's account, key, store and socket; the organisation's rules
W="$R/work"   # the analyst's exports, bundles, portal and ledger copies
mkdir -p "$R/witness-account" "$R/run" "$R/home" "$R/analyst" "$W"
chown $WITNESS:$WITNESS "$R/witness-account" "$R/run"; chmod 700 "$R/witness-account"; chmod 755 "$R/run"
chown $ANALYST:$ANALYST "$R/home" "$R/analyst" "$W"   # $R stays root's: no one else can swap the witness's folders
as_user $WITNESS env PYTHONPATH="$PP" $PY -m release witness init-key --out "$R/witness-account/witness.key" \
  --socket "$R/run/witness.sock" --json > "$R/witness-key.json"
PUB=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["public_key"])' "$R/witness-key.json")
# the counts key, derived from the organisation's HMAC key by its holder, given to the witness's account
as_user $WITNESS env PYTHONPATH="$PP" RELEASE_HMAC_KEY="$KEY" $PY -m release witness counts-key \
  --out "$R/witness-account/counts.key" --json > /dev/null
cp -r "$REPO/redaction_rules" "$R/rules"   # the organisation's rules (root's): the witness draws by them
setpriv --reuid $WITNESS --regid $WITNESS --clear-groups env PYTHONPATH="$PP" $PY -m release witness serve \
  --dir "$R/witness-account/store" --key "$R/witness-account/witness.key" \
  --counts-key "$R/witness-account/counts.key" --rules "$R/rules" --socket "$R/run/witness.sock" \
  --writer $ANALYST > "$R/witness.log" 2>&1 &   # setpriv and env exec: $! is the service's own pid
echo $! > "$R/witness.pid"
for _ in $(seq 100); do [ -S "$R/run/witness.sock" ] && break; sleep 0.1; done
A keygen --out "$R/analyst/legal.key" --name "A. Fictitious" --role legal --json > "$R/legal.json"
$PY - "$R" "$PUB" <<'P'
import json, sys, yaml
R, pub = sys.argv[1], sys.argv[2]
signer = json.load(open(f"{R}/legal.json"))
yaml.safe_dump({"signers": [{"name": "A. Fictitious", "role": "legal", "public_key": signer["public_key"]}]},
               open(f"{R}/rules/trusted_signers.yaml", "w"), sort_keys=False)
text = open(f"{R}/rules/privacy.yaml").read()
open(f"{R}/rules/privacy.yaml", "w").write(text.replace(
    "\nledger:", f"\nwitness: {{service: {R}/run/witness.sock, public_key: '{pub}'}}\nledger:", 1))
P
chmod -R go-w "$R/rules"
LEDGER="$R/home/.local/share/release/privacy_ledger.sqlite"
echo "witness: uid $WITNESS, store $(ls -ld "$R/witness-account" | cut -d' ' -f1) uid $(stat -c %u "$R/witness-account")"

# ---- the honest 2020: built, approved, published
A sample fioe 2020 --out "$W/raw20" --reports 120 >/dev/null
A sample fioe 2021 --out "$W/raw21" --reports 120 >/dev/null
B() { A fioe "$1" --input "$W/raw${1#20}" --out "$2" --rules "$R/rules" --json; }
echo "2020 build rc=$(rc B 2020 "$W/rel") approve rc=$(rc A approve fioe 2020 --key "$R/analyst/legal.key" --out "$W/rel" --rules "$R/rules") publish rc=$(rc A publish fioe 2020 --to "$W/portal" --out "$W/rel" --rules "$R/rules")"
C0=$(charges "$LEDGER"); cp "$LEDGER" "$R/analyst/ledger.M0"; chown $ANALYST "$R/analyst/ledger.M0"

# ---- 2f-ns: three draws of 2021 on copies of the ledger, each in a private mount namespace
# (a) with the analyst's own witness (their key) mounted over the witness's socket folder
A witness init-key --out "$R/analyst/fake.key" --json >/dev/null
A witness counts-key --out "$R/analyst/fake-counts.key" --json >/dev/null   # the analyst holds the HMAC key
setpriv --reuid $ANALYST --regid $ANALYST --clear-groups env PYTHONPATH="$PP" $PY -m release witness serve \
  --dir "$R/analyst/fake-store" --key "$R/analyst/fake.key" --counts-key "$R/analyst/fake-counts.key" \
  --rules "$R/rules" --socket "$R/analyst/fake-run/witness.sock" \
  > "$R/fake.log" 2>&1 &
FAKE=$!
for _ in $(seq 100); do [ -S "$R/analyst/fake-run/witness.sock" ] && break; sleep 0.1; done
ns_build() {  # $1 = draw number, $2 = "fake" to mount the analyst's witness over the real socket folder
  mkdir -p "$W/h$1/.local/share/release"; cp "$LEDGER" "$W/h$1/.local/share/release/"; chown -R $ANALYST "$W/h$1"
  local mount=":"; [ "$2" = fake ] && mount="mount --bind $R/analyst/fake-run $R/run"
  as_user $ANALYST unshare -rm --propagation private bash -c "$mount && HOME=$W/h$1 PYTHONPATH=$PP \
    RELEASE_HMAC_KEY=$KEY $PY -m release fioe 2021 --input $W/raw21 --out $W/ns$1 --rules $R/rules --json" \
    > "$R/last.out" 2>&1; echo $?; }
for i in 1 2 3; do
  code=$(ns_build "$i" fake); why=$(said "does not verify")
  echo " draw $i, namespace + analyst's witness: build rc=$code table=$(table "$W/ns$i" 2021) ($why)"
  row "2f-ns (a) draw $i: namespace, the analyst's own witness over the socket" "refused, nothing drawn" \
      "build $code, table $(table "$W/ns$i" 2021)" "$([ "$code" = 6 ] && [ "$(table "$W/ns$i" 2021)" = none ] && echo PASS || echo FAIL)"
done
kill $FAKE 2>/dev/null; wait $FAKE 2>/dev/null
# (b) without a fake: the real witness makes each draw; a copy behind it adopts what it holds first,
# so copies 5 and 6 get copy 4's draw back and re-use it (one draw, one charge)
tables=""
for i in 4 5 6; do
  code=$(ns_build "$i" real); why=$(said "recovered")
  echo " draw $i, namespace, the real witness: build rc=$code table=$(table "$W/ns$i" 2021) ${why:+($why)}"
  codes+="$code "; tables+="$(table "$W/ns$i" 2021) "
done
set -- $tables
row "2f-ns (b) draws 4-6: namespace, ledger copies, the real witness" "one draw only, re-used by every copy" \
    "builds $codes, tables $tables" "$([ "$codes" = "0 0 0 " ] && [ "$1" = "$2" ] && [ "$1" = "$3" ] && echo PASS || echo FAIL)"
for pick in 5 4; do  # the analyst puts back a copy's ledger: each catches up with the witness, one draw charged
  cp "$W/h$pick/.local/share/release/privacy_ledger.sqlite" "$LEDGER"
  ap=$(rc A approve fioe 2021 --key "$R/analyst/legal.key" --out "$W/ns$pick" --rules "$R/rules")
  echo " ledger of copy $pick put back: approve rc=$ap $(said "lacks\|0 valid")"
done
pub=$(rc A publish fioe 2021 --to "$W/portal" --out "$W/ns4" --rules "$R/rules")
au=$(rc A audit fioe 2021 --out "$W/ns4" --rules "$R/rules" --no-scan --allow-unverified)
N21=$(charges "$LEDGER"); echo " published draw 4: publish rc=$pub audit rc=$au; charges for 2021: $((N21 - C0)) for 1 draw made"
row "2f-ns (b) copy 4's ledger (the one draw) put back" "approved: charged, witnessed" "approve $ap, publish $pub, audit $au; $((N21 - C0)) charge(s) for 1 draw" \
    "$([ "$ap$pub$au" = 000 ] && [ $((N21 - C0)) = 1 ] && echo PASS || echo FAIL)"

# ---- 2f-rw: a witnessed draw, the ledger rolled back, the witness's store attacked as the analyst
$PY - "$W/raw21/fieldcontact.csv" <<'P'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]))); fields = list(rows[0])
rows[5]["city"] = "MATTAPAN" if rows[5]["city"] != "MATTAPAN" else "ROXBURY"
w = csv.DictWriter(open(sys.argv[1], "w", newline=""), fieldnames=fields); w.writeheader(); w.writerows(rows)
P
cp "$LEDGER" "$R/analyst/ledger.M1"
d1=$(rc B 2021 "$W/rw1"); echo " corrected 2021, draw 1 (witnessed) rc=$d1 table=$(table "$W/rw1" 2021)"
cp "$LEDGER" "$R/analyst/ledger.M2"
cp "$R/analyst/ledger.M1" "$LEDGER"                                     # the rollback: the analyst's own file
d2=$(rc B 2021 "$W/rw2"); echo " after the rollback, draw 2 rc=$d2 table=$(table "$W/rw2" 2021) ($(said "recovered"))"
w1=$(as_user $ANALYST bash -c "cp /dev/null $R/witness-account/store/witness.sqlite" 2>&1 | grep -o "Permission denied" | head -1)
w2=$(as_user $ANALYST bash -c "chmod u+w $R/witness-account/store/witness.sqlite" 2>&1 | grep -o "Permission denied\|Operation not permitted" | head -1)
echo " the analyst rewrites the witness's store: ${w1:-WRITTEN}; chmod: ${w2:-CHANGED}"
ap=$(rc A approve fioe 2021 --key "$R/analyst/legal.key" --out "$W/rw1" --rules "$R/rules")
au=$(rc A audit fioe 2021 --out "$W/rw1" --rules "$R/rules" --no-scan --allow-unverified)
echo " draw 1 on the rolled-back ledger: approve rc=$ap audit rc=$au"
row "2f-rw: rollback after a witnessed draw, then a redraw" "draw 1 adopted back and re-used, no second draw" "draw 1 $d1; redraw $d2 (table $(table "$W/rw2" 2021) vs $(table "$W/rw1" 2021)); store write: ${w1:-written}; approve $ap, audit $au" \
    "$([ "$d1$d2$ap$au" = 0000 ] && [ "$(table "$W/rw2" 2021)" = "$(table "$W/rw1" 2021)" ] && [ -n "$w1" ] && echo PASS || echo FAIL)"

# ---- 2f-doc: what doctor says about this witness (the ledger caught up with it at each write: authoritative)
doc=$(A doctor --rules "$R/rules" --out "$W/rel" --json 2>/dev/null | $PY -c 'import json, sys
print(next(c["status"] + " " + c["detail"] for c in json.load(sys.stdin)["checks"] if c["name"] == "ledger"))')
echo " doctor (service): $doc"
row "2f-doc: doctor on the service tier" "ok, kept by another account" "${doc%% *}" \
    "$(echo "$doc" | grep -q "^ok .*service tier.*kept by another account" && echo PASS || echo FAIL)"
kill "$(cat "$R/witness.pid")" 2>/dev/null; wait "$(cat "$R/witness.pid")" 2>/dev/null
d3=$(rc B 2021 "$W/rw3"); echo " witness stopped: build rc=$d3 ($(said "cannot be reached"))"
row "witness down" "build refused (6), says what to fix" "build $d3" "$([ "$d3" = 6 ] && echo PASS || echo FAIL)"

echo; echo "| attack | expected | observed | verdict |"; echo "|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
