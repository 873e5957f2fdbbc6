#!/bin/sh
# Starts redis-server as the master or as a replica of the master the Sentinels name. On the very
# first start (no Sentinel answers yet) redis-0 is the master. Host names, not pod IPs, are
# announced: a pod's IP changes when it restarts, its name does not.
set -eu
self="${HOSTNAME:-$(hostname)}.redis-headless"
master="$(timeout 5 redis-cli -h redis-sentinel -p 26379 sentinel get-master-addr-by-name troupe 2>/dev/null | head -n 1 || true)"
[ -n "$master" ] || master="redis-0.redis-headless"
conf=/run/redis/redis.conf
cp /etc/redis/redis.conf "$conf"
{
  echo "requirepass $REDIS_PASSWORD"
  echo "masterauth $REDIS_PASSWORD"
  echo "replica-announce-ip $self"
  if [ "$master" != "$self" ]; then echo "replicaof $master 6379"; fi
} >> "$conf"
echo "redis: $self starts as $([ "$master" = "$self" ] && echo master || echo "replica of $master")"
exec redis-server "$conf"
