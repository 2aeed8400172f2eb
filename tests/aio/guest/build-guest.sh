#!/bin/sh
# Builds the all-in-one's test guest from Debian 12's own packages (no internet, no cirros):
# Debian's kernel and an initramfs of busybox whose /init prints a marker on the serial console,
# a counter every second, and, when a second disk /dev/vdb appears, writes a known line to it
# (1 MiB in) and prints that it did. Boots under TCG in seconds (direct kernel boot: glance
# kernel and ramdisk images, kernel_id/ramdisk_id on a tiny raw root disk).
#
# Run it on a Debian 12 host whose apt reaches Debian (a lab host: through the lab's apt proxy):
#   build-guest.sh OUTDIR    -> OUTDIR/vmlinuz, OUTDIR/initrd.gz, OUTDIR/root.raw
# Nothing is installed: the packages are downloaded and unpacked in OUTDIR/work.
set -eu
out=${1:?usage: build-guest.sh OUTDIR}
marker=${GUEST_MARKER:-STRATA-GUEST-MARKER booted}
written=${GUEST_WRITTEN:-STRATA-GUEST-WROTE}
mkdir -p "$out/work"
cd "$out/work"
# The kernel package linux-image-amd64 points at (the running release's), and busybox.
kernel_pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
[ -n "$kernel_pkg" ] || { echo "build-guest: no kernel package found (apt-get update?)" >&2; exit 1; }
if [ ! -f kernel.done ]; then
    rm -rf kernel busybox ./*.deb
    apt-get download "$kernel_pkg" busybox-static >/dev/null
    dpkg-deb -x linux-image-*.deb kernel
    dpkg-deb -x busybox-static_*.deb busybox
    touch kernel.done
fi
version=${kernel_pkg#linux-image-}
rm -rf root && mkdir -p root/bin root/proc root/sys root/dev root/modules
cp busybox/bin/busybox root/bin/busybox
ln -s busybox root/bin/sh
# virtio over PCI and virtio-blk are modules in Debian's kernel (not compressed in bookworm).
for module in virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
    file=$(find "kernel/lib/modules/$version" -name "$module.ko" | head -1)
    [ -n "$file" ] || { echo "build-guest: $module.ko not in $kernel_pkg" >&2; exit 1; }
    cp "$file" root/modules/
done
cat > root/init <<INIT
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "$marker"
# No modules.dep: load in passes until every module that can load has.
for pass in 1 2 3; do for m in /modules/*.ko; do insmod \$m 2>/dev/null; done; done
n=0
wrote=no
while true; do
    n=\$((n + 1))
    echo "tick \$n uptime=\$(cut -d' ' -f1 /proc/uptime) blocks: \$(ls /sys/block | tr '\n' ' ')"
    if [ \$wrote = no ] && [ -b /dev/vdb ]; then
        printf '%s tick %s\n' "$written" \$n | dd of=/dev/vdb bs=512 seek=2048 count=1 conv=sync,fsync 2>/dev/null
        echo "vdb written: \$(dd if=/dev/vdb bs=512 skip=2048 count=1 2>/dev/null | head -n 1)"
        wrote=yes
    fi
    [ -b /dev/vdb ] || wrote=no
    sleep 1
done
INIT
chmod 0755 root/init
cp "kernel/boot/vmlinuz-$version" "$out/vmlinuz"
# cpio from busybox when the host has none (a minimal Debian has none).
cpio=$(command -v cpio || echo "$PWD/busybox/bin/busybox cpio")
(cd root && find . | $cpio -o -H newc 2>/dev/null | gzip -9) > "$out/initrd.gz"
# The root disk nova copies into the vms pool: 1 MiB of zeros (the guest runs from its initramfs).
dd if=/dev/zero of="$out/root.raw" bs=1M count=1 2>/dev/null
ls -l "$out/vmlinuz" "$out/initrd.gz" "$out/root.raw"
