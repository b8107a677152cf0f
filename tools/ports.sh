# Free loopback ports for tests and benchmarks (sourced). Ports come from below the kernel's
# ephemeral range (ip_local_port_range, 32768+ here), so an outgoing connection can never take
# a port between the check and the server's bind.

# Prints the first port of a block of COUNT consecutive ports nothing listens on, searching
# from a start derived from SEED (e.g. $$) so that concurrent tests pick different blocks.
free_port_block() {  # COUNT [SEED]
  local count=$1 seed=${2:-$$} low=10000 high
  high=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  local span=$((high - low - count)) base i
  for attempt in $(seq 0 200); do
    base=$((low + (seed * 97 + attempt * 131) % span))
    for ((i = 0; i < count; i++)); do
      (exec 3<>"/dev/tcp/127.0.0.1/$((base + i))") 2>/dev/null && break
    done
    [ "$i" -eq "$count" ] && { echo "$base"; return 0; }
  done
  echo "free_port_block: no $count free consecutive ports below $high" >&2
  return 1
}
