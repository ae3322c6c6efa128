#!/usr/bin/env bash
# Reference captures of real software, for the tests that hold netsim's frames against
# them (tests/wire/test_reference_captures.py). Two network namespaces joined by a veth
# pair, Debian's own daemons and clients, tcpdump on the client's side; no traffic ever
# leaves the namespaces made here. Run as root on Debian 12 with:
#   apt-get install bind9-dnsutils unbound nginx-light curl isc-dhcp-client dnsmasq-base tcpdump
# The pcaps are committed; this script is how they were made (and how to make them anew).
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
C=ref-client S=ref-server

cleanup() {
    set +e
    for pid in $(ip netns pids $S 2>/dev/null) $(ip netns pids $C 2>/dev/null); do kill "$pid"; done
    sleep 0.5
    ip netns del $C 2>/dev/null; ip netns del $S 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add $C
ip netns add $S
for ns in $C $S; do      # IPv4 only: no IPv6 router solicitations in the captures
    ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add veth-c netns $C type veth peer name veth-s netns $S
ip -n $C link set lo up
ip -n $S link set lo up
ip -n $C link set veth-c up
ip -n $S link set veth-s up
ip -n $S addr add 10.99.0.1/24 dev veth-s

capture() {   # capture NAME COMMAND...: tcpdump on the client's veth while COMMAND runs
    local name=$1; shift
    ip netns exec $C tcpdump -i veth-c -s 0 -U -w "$work/$name.pcap" 2>/dev/null &
    local dump=$!
    sleep 1
    "$@"
    sleep 1
    kill -INT $dump; wait $dump || true
    cp "$work/$name.pcap" "$out/$name.pcap"
}

# DHCP: ISC dhclient against dnsmasq; then the client keeps its address for the rest.
cat > "$work/dnsmasq.conf" <<CONF
interface=veth-s
bind-interfaces
port=0
dhcp-range=10.99.0.100,10.99.0.150,255.255.255.0,1h
dhcp-option=option:router,10.99.0.1
dhcp-leasefile=$work/leases
CONF
ip netns exec $S dnsmasq --conf-file="$work/dnsmasq.conf" --pid-file="$work/dnsmasq.pid"
lease() {
    ip netns exec $C dhclient -v -1 -pf "$work/dhclient.pid" -lf "$work/dhclient.leases" veth-c
    sleep 3      # long enough for any announcement after BOUND to show
}
capture dhclient lease
ip netns exec $C dhclient -x -pf "$work/dhclient.pid" -lf "$work/dhclient.leases" veth-c || true
ip -n $C addr flush dev veth-c
ip -n $C addr add 10.99.0.10/24 dev veth-c

# DNS: dig asks an Unbound that answers example.test itself.
cat > "$work/unbound.conf" <<CONF
server:
    interface: 10.99.0.1
    access-control: 10.99.0.0/24 allow
    username: ""
    chroot: ""
    directory: "$work"
    pidfile: "$work/unbound.pid"
    use-syslog: no
    do-daemonize: yes
    local-zone: "example.test." static
    local-data: "www.example.test. 300 IN A 10.99.0.80"
CONF
ip netns exec $S unbound -c "$work/unbound.conf"
sleep 1
capture dig ip netns exec $C dig @10.99.0.1 www.example.test A

# HTTP: curl fetches a page from nginx, the connection closed when curl is done.
mkdir -p "$work/www"
chmod 755 "$work"          # nginx's workers run as www-data
printf 'hello from nginx\n' > "$work/www/index.html"
cat > "$work/nginx.conf" <<CONF
pid $work/nginx.pid;
error_log $work/error.log;
events {}
http {
    access_log off;
    server {
        listen 10.99.0.1:80;
        root $work/www;
    }
}
CONF
ip netns exec $S nginx -c "$work/nginx.conf"
sleep 1
capture curl ip netns exec $C curl -s -o /dev/null http://10.99.0.1/index.html
