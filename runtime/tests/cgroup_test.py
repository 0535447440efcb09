"""CPU limit from cgroup v1/v2 fixture trees, and the real machine's value."""

import os
import tempfile
import unittest
from pathlib import Path

from workload_server import cgroup


class CgroupTest(unittest.TestCase):
    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.root = Path(self._dir.name)
        self.addCleanup(self._dir.cleanup)

    def write(self, relative, text):
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def test_v2_limit_in_namespaced_container(self):
        self.write("proc/self/cgroup", "0::/\n")
        self.write("sys/fs/cgroup/cgroup.controllers", "cpu memory\n")
        self.write("sys/fs/cgroup/cpu.max", "150000 100000\n")
        self.assertEqual(cgroup.cpu_limit(self.root), 1.5)

    def test_v2_unlimited(self):
        self.write("proc/self/cgroup", "0::/\n")
        self.write("sys/fs/cgroup/cgroup.controllers", "cpu\n")
        self.write("sys/fs/cgroup/cpu.max", "max 100000\n")
        self.assertIsNone(cgroup.cpu_limit(self.root))

    def test_v2_tightest_ancestor_wins(self):
        self.write("proc/self/cgroup", "0::/kubepods/pod1/ctr\n")
        self.write("sys/fs/cgroup/cgroup.controllers", "cpu\n")
        self.write("sys/fs/cgroup/kubepods/cpu.max", "max 100000\n")
        self.write("sys/fs/cgroup/kubepods/pod1/cpu.max", "50000 100000\n")
        self.write("sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "200000 100000\n")
        self.assertEqual(cgroup.cpu_limit(self.root), 0.5)

    def test_v2_host_path_missing_reads_mount_top(self):
        self.write("proc/self/cgroup", "0::/system.slice/docker-1.scope\n")
        self.write("sys/fs/cgroup/cgroup.controllers", "cpu\n")
        self.write("sys/fs/cgroup/cpu.max", "300000 100000\n")
        self.assertEqual(cgroup.cpu_limit(self.root), 3.0)

    def test_v1_quota(self):
        self.write("proc/self/cgroup", "4:cpu,cpuacct:/docker/abc\n0::/\n")
        self.write("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "200000\n")
        self.write("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n")
        self.assertEqual(cgroup.cpu_limit(self.root), 2.0)

    def test_v1_unlimited(self):
        self.write("proc/self/cgroup", "1:cpu:/\n")
        self.write("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n")
        self.write("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n")
        self.assertIsNone(cgroup.cpu_limit(self.root))

    def test_nothing_mounted(self):
        self.assertIsNone(cgroup.cpu_limit(self.root))

    def test_available_cpus_is_capped_by_affinity(self):
        self.write("proc/self/cgroup", "0::/\n")
        self.write("sys/fs/cgroup/cgroup.controllers", "cpu\n")
        self.write("sys/fs/cgroup/cpu.max", "6400000 100000\n")
        self.assertEqual(cgroup.available_cpus(self.root), len(os.sched_getaffinity(0)))

    def test_available_cpus_uses_the_limit(self):
        self.write("proc/self/cgroup", "0::/\n")
        self.write("sys/fs/cgroup/cgroup.controllers", "cpu\n")
        self.write("sys/fs/cgroup/cpu.max", "50000 100000\n")
        self.assertEqual(cgroup.available_cpus(self.root), 0.5)

    def test_this_machine(self):
        cpus = cgroup.available_cpus()
        self.assertGreater(cpus, 0)
        self.assertLessEqual(cpus, len(os.sched_getaffinity(0)))


if __name__ == "__main__":
    unittest.main()
