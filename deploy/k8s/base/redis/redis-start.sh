#!/bin/sh
# Starts redis-server as the master or as a replica of the master the Sentinels name. On the very
# first start (no Sentinel answers yet) redis-0 is the master. Host names, not pod IPs, are
# announced: a pod's IP changes when it restarts, its name does not.
set -eu
self="${HOSTNAME:-$(hostname)}.redis-headless"
master="$(sh /etc/redis/current-master.sh)"
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
