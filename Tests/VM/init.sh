#!/bin/busybox sh
# /init of the VM matrix's initramfs. Prepares the scenario named on the kernel command line
# (vp.* words), runs vfio-probe, prints its JSON between markers on the serial console, and checks
# that the probe changed nothing. The preparation (binding, mdev creation) is this script's doing;
# the probe itself only reads.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp /etc
echo 1 > /proc/sys/kernel/printk
echo "root:x:0:0::/:/bin/sh" > /etc/passwd
echo "probe:x:1000:1000::/tmp:/bin/sh" >> /etc/passwd

VP_name=unnamed VP_sriov= VP_bind= VP_device= VP_alldevices= VP_unbind= VP_mdev= VP_user= VP_modules= VP_args= VP_extra= VP_hostuse= VP_cdi=
for w in $(cat /proc/cmdline); do
    case "$w" in
        vp.*=*) k=${w%%=*}; k=${k#vp.}; v=${w#*=}; eval "VP_$k=\"\$v\"" ;;
    esac
done

say() { echo "VP: $*"; }

# Stock kernels: load the VFIO modules the host packed, in dependency order.
if [ -f /modules/order ]; then
    for m in $(cat /modules/order); do insmod "/modules/$m" || say "insmod $m failed"; done
fi

find_bdf() {  # VVVV:DDDD -> the first matching function
    for d in /sys/bus/pci/devices/*; do
        [ "$(cat $d/vendor):$(cat $d/device)" = "0x${1%%:*}:0x${1##*:}" ] && { basename "$d"; return; }
    done
}

find_all() {  # VVVV:DDDD -> every matching function
    for d in /sys/bus/pci/devices/*; do
        [ "$(cat $d/vendor):$(cat $d/device)" = "0x${1%%:*}:0x${1##*:}" ] && basename "$d"
    done
}

if [ -n "$VP_unbind" ]; then  # every matching function off its driver, before any binding
    for bdf in $(find_all "$VP_unbind"); do
        [ -e /sys/bus/pci/devices/$bdf/driver ] && echo "$bdf" > /sys/bus/pci/devices/$bdf/driver/unbind && say "unbound $bdf"
    done
fi
if [ -n "$VP_sriov" ]; then  # VVVV:DDDD:N: N VFs on the first such PF, the first VF to vfio-pci
    pf=$(find_bdf "${VP_sriov%:*}")
    echo "${VP_sriov##*:}" > /sys/bus/pci/devices/$pf/sriov_numvfs && say "enabled ${VP_sriov##*:} VFs on $pf"
    sleep 1
    vf=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn0)")
    echo vfio-pci > /sys/bus/pci/devices/$vf/driver_override
    [ -e /sys/bus/pci/devices/$vf/driver ] && echo "$vf" > /sys/bus/pci/devices/$vf/driver/unbind
    echo "$vf" > /sys/bus/pci/drivers_probe && say "bound VF $vf to vfio-pci"
fi
for id in $(echo "$VP_bind" | tr ',' ' '); do  # VVVV:DDDD[,VVVV:DDDD...]: the first of each to vfio-pci
    bdf=$(find_bdf "$id")
    say "binding $bdf to vfio-pci"
    echo vfio-pci > /sys/bus/pci/devices/$bdf/driver_override
    [ -e /sys/bus/pci/devices/$bdf/driver ] && echo "$bdf" > /sys/bus/pci/devices/$bdf/driver/unbind
    echo "$bdf" > /sys/bus/pci/drivers_probe
done
if [ -n "$VP_mdev" ]; then
    echo 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 > /sys/class/mdev_bus/mtty/mdev_supported_types/$VP_mdev/create && say "created an $VP_mdev mdev"
fi

# The probe's root: / , or the NVMe disk the guest moved / to (vp.hostuse: a chroot, where
# mountinfo shows the disk's mount as /), with swap on the virtio-blk and the default route on
# the virtio-net.
ROOT=
if [ -n "$VP_hostuse" ]; then
    mke2fs -q /dev/nvme0n1 && mkdir -p /newroot && mount -t ext2 /dev/nvme0n1 /newroot && say "/ on nvme0n1"
    for d in bin lib lib64 usr etc tmp; do [ -e /$d ] && cp -a /$d /newroot/; done
    mkdir -p /newroot/proc /newroot/sys /newroot/dev
    mount -t proc proc /newroot/proc && mount -t sysfs sysfs /newroot/sys && mount -t devtmpfs devtmpfs /newroot/dev
    mkswap /dev/vda > /dev/null && swapon /dev/vda && say "swap on vda"
    ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default dev eth0 && say "default route on eth0"
    ROOT=/newroot
fi

args="--format json --color never $(echo "$VP_args" | tr ',' ' ')"
devarg=""
[ -n "$VP_device" ] && devarg="--device $(find_bdf "$VP_device")"
if [ -n "$VP_alldevices" ]; then
    for bdf in $(find_all "$VP_alldevices"); do devarg="$devarg --device $bdf"; done
fi
args="$args $devarg"

state() {
    for d in /sys/bus/pci/devices/*; do
        echo "$(basename $d) driver=$(basename "$(readlink $d/driver)" 2>/dev/null) override=$(cat $d/driver_override)"
    done
    for p in /sys/module/vfio*/parameters/* /sys/module/iommufd/parameters/*; do
        [ -f "$p" ] && echo "$p=$(cat $p)"
    done
    echo "tainted=$(cat /proc/sys/kernel/tainted)"
    echo "groups=$(ls /sys/kernel/iommu_groups | tr '\n' ' ')"
    echo "mdevs=$(ls /sys/bus/mdev/devices 2>/dev/null | tr '\n' ' ')"
}

holders() {  # processes with a VFIO or iommufd node open
    for f in /proc/[0-9]*/fd/*; do
        case "$(readlink $f 2>/dev/null)" in /dev/vfio/*|/dev/iommu) echo "$f" ;; esac
    done
}

probe() {  # probe ARGS... > OUT: as root, or as the scenario's unprivileged user
    if [ -n "$VP_user" ]; then
        # su to a uid other than 0 drops every capability, as for any unprivileged user.
        su -s /bin/sh probe -c "/bin/vfio-probe $*"
    elif [ -n "$ROOT" ]; then
        chroot "$ROOT" /bin/vfio-probe "$@"
    else
        /bin/vfio-probe "$@"
    fi
}

state > /tmp/before
chmod 1777 /tmp "$ROOT/tmp" 2>/dev/null
say "running: vfio-probe $args${VP_user:+ as uid $VP_user}"
probe $args > /tmp/report.json 2> /tmp/stderr
echo "VP-EXIT $?"
# Further runs of the same scenario (vp.extra=ARGS;ARGS, each comma-separated): the exit status
# and the JSON report of each.
n=0
IFS_SAVE=$IFS; IFS=';'; set -f
for run in $VP_extra; do
    IFS=$IFS_SAVE
    n=$((n + 1))
    probe --format json --color never $devarg $(echo "$run" | tr ',' ' ') > /tmp/extra-$n.json 2>> /tmp/stderr
    echo "VP-EXTRA-$n-EXIT $?"
    IFS=';'
done
IFS=$IFS_SAVE; set +f
# CDI specs (vp.cdi=BACKEND;BACKEND): `vfio-probe cdi --backend B`, its exit status and spec;
# the nodes it names are tested below, once the probe's own runs are over.
IFS=';'
for b in $VP_cdi; do
    IFS=$IFS_SAVE
    probe cdi --backend "$b" --output /tmp/cdi-$b.json 2>> /tmp/stderr
    echo "VP-CDI-$b-EXIT $?"
    IFS=';'
done
IFS=$IFS_SAVE
probe snapshot --output /tmp/snap $devarg > /tmp/snapshot.log 2>> /tmp/stderr || say "snapshot failed"
probe --no-live --format json $devarg > /tmp/static.json 2>> /tmp/stderr
state > /tmp/after
left=$(holders)

echo "===VP-JSON-BEGIN==="
base64 /tmp/report.json
echo "===VP-JSON-END==="
echo "===VP-STATIC-BEGIN==="
base64 /tmp/static.json
echo "===VP-STATIC-END==="
i=1
while [ $i -le $n ]; do
    echo "===VP-EXTRA-$i-BEGIN==="
    base64 /tmp/extra-$i.json
    echo "===VP-EXTRA-$i-END==="
    i=$((i + 1))
done
# Each deviceNodes entry of each CDI spec: its host node (hostPath, else path) is a character
# device and opens read-only (a group or cdev open holds nothing: no device is opened by it).
IFS=';'
for b in $VP_cdi; do
    IFS=$IFS_SAVE
    [ -f /tmp/cdi-$b.json ] || { echo "VP-CDI-$b-NOSPEC"; IFS=';'; continue; }
    echo "VP-CDI-$b-DEVICES $(grep -c '"name":' /tmp/cdi-$b.json)"
    for node in $(awk -F'"' '/"path":/ { p = $4 } /"hostPath":/ { p = $4 } /"type":/ { print p }' /tmp/cdi-$b.json); do
        c=0; o=0
        [ -c "$node" ] && c=1
        (exec 3< "$node") 2>/dev/null && o=1
        echo "VP-CDI-$b-NODE $node char=$c open=$o"
    done
    IFS=';'
done
IFS=$IFS_SAVE
echo "===VP-SNAP-BEGIN==="
tar czf - -C "$ROOT/tmp/snap" . | base64
echo "===VP-SNAP-END==="
sed 's/^/VP-STDERR /' /tmp/stderr
if cmp -s /tmp/before /tmp/after && [ -z "$left" ]; then
    echo "VP-NOCHANGE ok"
else
    echo "VP-NOCHANGE changed"
    diff /tmp/before /tmp/after | sed 's/^/VP-DIFF /'
    for l in $left; do echo "VP-DIFF left open: $l"; done
fi
echo "===VP-DONE==="
poweroff -f
