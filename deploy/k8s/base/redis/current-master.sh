#!/bin/sh
# Prints the host name of the current Redis master of "troupe", as any ready Sentinel knows it;
# redis-0.redis-headless when none answers (the very first start of the stack).
master="$(timeout 5 redis-cli -h redis-sentinel -p 26379 sentinel get-master-addr-by-name troupe 2>/dev/null | head -n 1 || true)"
echo "${master:-redis-0.redis-headless}"
