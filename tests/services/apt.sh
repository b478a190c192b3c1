#!/usr/bin/env bash
# apt_install LOG PACKAGE...: installs Debian packages without a single question, logging to LOG.
# debconf is told not to ask (DEBIAN_FRONTEND=noninteractive) and dpkg is told what to do with a
# config file that is already there: keep it (--force-confold) or take the default (--force-confdef)
# instead of asking on stdin, which is /dev/null here. Without that, a conffile written earlier (e.g.
# /etc/containers/policy.json before containers-common is installed) stops the install with
# "end of file on stdin at conffile prompt". A run stopped that way left packages half-configured:
# they are configured first, with the same answers. Another apt running (a second up.sh) is waited
# for, up to two minutes, instead of failing at once on its lock. Sourced by tests/services/up.sh.
apt_install() {
  local log=$1
  shift
  local answers=(-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  local wait=(-o DPkg::Lock::Timeout=120)
  export DEBIAN_FRONTEND=noninteractive
  if [[ -n $(dpkg --audit 2>/dev/null) ]]; then
    dpkg --configure -a --force-confdef --force-confold </dev/null >>"$log" 2>&1 || return 1
  fi
  apt-get update -qq "${wait[@]}" </dev/null >>"$log" 2>&1 || return 1
  apt-get install -y -qq --no-install-recommends "${wait[@]}" "${answers[@]}" "$@" </dev/null >>"$log" 2>&1
}
