#!/usr/bin/env bash
# A one-node Slurm on this machine, for the Slurm tests and for trying `prunefuse slurm`
# without a cluster. Debian's slurm-wlm and munge; root required (slurmd runs jobs as
# any user).
#
#   scripts/slurm-local.sh start    writes $SLURM_LOCAL_DIR/slurm.conf, starts munged (if
#                                   none runs), slurmctld and slurmd, waits for the node
#   scripts/slurm-local.sh stop     stops what start started, by the pids it recorded
#   scripts/slurm-local.sh env      prints the export that points Slurm's clients at it
#
# Everything lives in SLURM_LOCAL_DIR (default /tmp/prunefuse-slurm): config, state,
# spool, logs and pid files; /etc/slurm is left alone. Clients (sbatch, squeue, scancel
# and `prunefuse slurm`) find this cluster through SLURM_CONF=$SLURM_LOCAL_DIR/slurm.conf.
# The daemons listen on SLURM_LOCAL_PORT and the port after it (default 16817), so that
# a system Slurm on the usual 6817/6818 is not disturbed.
set -euo pipefail

dir=${SLURM_LOCAL_DIR:-/tmp/prunefuse-slurm}
port=${SLURM_LOCAL_PORT:-16817}
conf=$dir/slurm.conf

die() {
  echo "slurm-local: $*" >&2
  exit 1
}

# Stops the process whose pid is in file $1 and waits for it to exit; TERM, then KILL.
stop_pidfile() {
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

start() {
  [ "$(id -u)" = 0 ] || die "must run as root (slurmd starts jobs as their users)"
  for tool in slurmctld slurmd munged sbatch sinfo; do
    command -v "$tool" >/dev/null || die "$tool not found; install Debian's packages: apt-get install slurm-wlm munge"
  done
  [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null &&
    die "already running from $dir (stop it first: $0 stop)"
  mkdir -p "$dir"/{state,spool,log} /run/munge /var/log/munge /etc/munge

  # munge authenticates Slurm's messages; one munged serves every Slurm on the host.
  if [ ! -f /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
  fi
  chown -R munge:munge /etc/munge /run/munge /var/log/munge
  chmod 400 /etc/munge/munge.key
  if ! munge -n >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do [ -f /run/munge/munged.pid ] && break; sleep 0.1; done
    cp /run/munge/munged.pid "$dir/munged.pid"
  fi

  local host mem
  host=$(hostname -s)
  mem=$(free -m | awk '/Mem/{print int($2*0.8)}')
  cat >"$conf" <<CONF
ClusterName=prunefuse-local
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerParameters=sched_interval=1
MinJobAge=600
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

  export SLURM_CONF=$conf
  slurmctld -f "$conf"
  slurmd -f "$conf"
  for _ in $(seq 150); do
    state=$(sinfo -h -o %T 2>/dev/null | head -1 || true)
    [ "$state" = idle ] && { echo "slurm-local: node $host idle; export SLURM_CONF=$conf"; return 0; }
    sleep 0.2
  done
  die "the node did not become idle in 30 s (state '${state:-none}'); see $dir/log/"
}

stop() {
  stop_pidfile "$dir/slurmd.pid"
  stop_pidfile "$dir/slurmctld.pid"
  stop_pidfile "$dir/munged.pid"
  echo "slurm-local: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *) die "usage: $0 start|stop|env (SLURM_LOCAL_DIR=$dir, SLURM_LOCAL_PORT=$port)" ;;
esac
