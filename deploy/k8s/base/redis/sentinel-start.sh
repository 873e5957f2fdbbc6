#!/bin/sh
# Starts a Sentinel watching the current master (asked of the other Sentinels; redis-0 on the
# very first start), quorum 2 of 3.
set -eu
master="$(sh /etc/redis/current-master.sh)"
conf=/run/sentinel/sentinel.conf
cp /etc/redis/sentinel.conf "$conf"
{
  echo "sentinel announce-ip ${HOSTNAME:-$(hostname)}.redis-sentinel-headless"
  echo "sentinel monitor troupe $master 6379 2"
  echo "sentinel auth-pass troupe $REDIS_PASSWORD"
  echo "sentinel down-after-milliseconds troupe 5000"
  echo "sentinel failover-timeout troupe 60000"
  echo "sentinel parallel-syncs troupe 1"
} >> "$conf"
exec redis-server "$conf" --sentinel
