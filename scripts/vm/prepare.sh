# Sourced by scripts/vm-test (POSIX sh): installs what the VM needs and fills the cache.
#   vm_prepare   sets KVER, KROOT (the unpacked kernel package), VMLINUX, INITRD
# Cache: $CORRAL_VM_CACHE (default /var/cache/corral-vm)
#   <kver>/root/       linux-image-<kver> unpacked with dpkg-deb -x, depmod'ed
#   <kver>/vmlinux     the uncompressed kernel (PVH entry: no emulated decompression at boot)
#   <kver>/initramfs-<hash>.cpio   busybox-static + guest-init + the modules below
# Everything is rebuilt only when missing; initramfs when guest-init, busybox or the list change.

VM_CACHE=${CORRAL_VM_CACHE:-/var/cache/corral-vm}
VM_PACKAGES="qemu-system-x86 busybox-static kmod xz-utils"
# Loaded with plain insmod in this order (deps first): virtio-mmio devices of the microvm machine,
# virtio-serial for the command's output, 9p for the shares, overlay for the root.
VM_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_mmio
virtio_console 9pnet 9pnet_virtio netfs fscache 9p overlay"

say() { printf '\033[1mvm-test: %s\033[0m\n' "$*" >&2; }
die() {
  printf '\n\033[1;31m!! vm-test: %s\033[0m\n' "$*" >&2
  exit 125
}

vm_packages() {
  missing=
  for p in $VM_PACKAGES; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' ok installed$' || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  say "installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null || die "apt-get install$missing failed"
}

# The kernel linux-image-amd64 depends on, e.g. 6.1.0-56-amd64
vm_kernel_version() {
  [ -n "${CORRAL_VM_KVER:-}" ] && { echo "$CORRAL_VM_KVER"; return; }
  v=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
  if [ -z "$v" ]; then
    apt-get update -qq >/dev/null 2>&1
    v=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
  fi
  if [ -z "$v" ]; then # offline: the newest kernel already cached
    v=$(ls -1 "$VM_CACHE" 2>/dev/null | while read -r d; do [ -f "$VM_CACHE/$d/.ready" ] && echo "$d"; done | sort -V | tail -n 1)
  fi
  [ -n "$v" ] || die "cannot tell which kernel linux-image-amd64 depends on (apt-cache depends linux-image-amd64), and none is cached in $VM_CACHE"
  echo "$v"
}

vm_kernel() {
  dir=$VM_CACHE/$KVER
  [ -f "$dir/.ready" ] && return 0
  say "fetching and unpacking linux-image-$KVER into $dir (once)"
  rm -rf "$dir" && mkdir -p "$dir/dl" || die "cannot create $dir"
  (cd "$dir/dl" && apt-get download -q -o APT::Sandbox::User=root "linux-image-$KVER" >/dev/null) ||
    die "apt-get download linux-image-$KVER failed"
  deb=$(ls "$dir"/dl/linux-image-"$KVER"_*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] || die "apt-get download left no linux-image-$KVER package in $dir/dl"
  dpkg-deb -x "$deb" "$dir/root" || die "dpkg-deb -x $deb failed"
  depmod -b "$dir/root" "$KVER" || die "depmod -b $dir/root $KVER failed"

  # bzImage: the xz payload starts at (setup_sects + 1) * 512 + payload_offset
  bz=$dir/root/boot/vmlinuz-$KVER
  setup_sects=$(od -An -tu1 -j 497 -N 1 "$bz" | tr -d ' ')
  payload_offset=$(od -An -tu4 -j 584 -N 4 "$bz" | tr -d ' ')
  off=$(((setup_sects + 1) * 512 + payload_offset))
  magic=$(od -An -tx1 -j "$off" -N 6 "$bz" | tr -d ' \n')
  if [ "$magic" != fd377a585a00 ]; then # not where the header says: search for the xz magic
    off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bz" | head -n 1 | cut -d: -f1)
    [ -n "$off" ] || die "no xz payload in $bz (is the kernel compressed with something else?)"
  fi
  tail -c +"$((off + 1))" "$bz" | xz -dc --single-stream >"$dir/vmlinux.tmp" || die "cannot decompress the kernel in $bz"
  [ "$(od -An -c -N 4 "$dir/vmlinux.tmp" | tr -d ' ')" = '177ELF' ] || die "$bz did not hold an ELF vmlinux"
  mv "$dir/vmlinux.tmp" "$dir/vmlinux"
  rm -rf "$dir/dl"
  : >"$dir/.ready"
  for old in "$VM_CACHE"/*/.ready; do # the kernels it replaces
    [ -f "$old" ] && [ "${old%/.ready}" != "$dir" ] && rm -rf "${old%/.ready}"
  done
}

vm_initramfs() {
  dir=$VM_CACHE/$KVER
  mods=$(modprobe -d "$dir/root" -S "$KVER" -a --show-depends $VM_MODULES) ||
    die "modprobe --show-depends found no modules in $dir/root"
  mods=$(echo "$mods" | awk '$1 == "insmod" && !seen[$2]++ { print $2 }')
  busybox=$(command -v busybox) || die "busybox not found"
  key=$( (cat scripts/vm/guest-init "$busybox"; echo "$mods") | sha256sum | cut -c1-16)
  INITRD=$dir/initramfs-$key.cpio
  # Other versions of guest-init (other work trees) may use theirs right now: keep them a while
  find "$dir" -maxdepth 1 -name 'initramfs-*.cpio' -mtime +7 -delete 2>/dev/null
  [ -f "$INITRD" ] && { touch "$INITRD"; return 0; }

  say "building the initramfs"
  stage=$(mktemp -d "$dir/initramfs.XXXXXX") || die "mktemp in $dir failed"
  mkdir -p "$stage/bin" "$stage/modules"
  cp "$busybox" "$stage/bin/busybox" && cp scripts/vm/guest-init "$stage/init" && chmod 755 "$stage/init" ||
    die "cannot stage the initramfs in $stage"
  for m in $mods; do
    name=${m##*/}
    case $name in
      *.ko.xz) xz -dc "$m" >"$stage/modules/${name%.xz}" && name=${name%.xz} ;;
      *.ko.zst) zstd -qdc "$m" >"$stage/modules/${name%.zst}" && name=${name%.zst} ;;
      *) cp "$m" "$stage/modules/$name" ;;
    esac || die "cannot copy module $m"
    echo "$name" >>"$stage/modules.list"
  done
  (cd "$stage" && find . | busybox cpio -o -H newc 2>/dev/null) >"$INITRD.tmp" || die "cpio failed"
  rm -rf "$stage"
  mv "$INITRD.tmp" "$INITRD"
}

vm_prepare() {
  vm_packages
  mkdir -p "$VM_CACHE" || die "cannot create the cache dir $VM_CACHE"
  VM_CACHE=$(cd "$VM_CACHE" && pwd -P) # the guest finds the module tree by this path
  KVER=$(vm_kernel_version) || exit 125
  # One run at a time fills the cache; later ones wait here, then find it ready
  exec 9>"$VM_CACHE/.lock"
  flock 9 || die "cannot lock $VM_CACHE/.lock"
  vm_kernel
  vm_initramfs
  exec 9>&-
  KROOT=$VM_CACHE/$KVER/root
  VMLINUX=$VM_CACHE/$KVER/vmlinux
}
