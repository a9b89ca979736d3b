package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// fleetCaps are the capabilities the fleet manifests grant, by their
// Kubernetes names: what passive capture needs (live.Capabilities,
// TestFleetCapabilities shows it on a veth), and nothing more.
var fleetCaps = []string{"BPF", "NET_ADMIN"}

const deployDir = "../../deploy"

// The parts of the manifests the tests rely on.
type (
	k8sObject struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name      string `yaml:"name"`
			Namespace string `yaml:"namespace"`
		} `yaml:"metadata"`
		Data map[string]string `yaml:"data"`
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			Template struct {
				Metadata struct {
					Labels      map[string]string `yaml:"labels"`
					Annotations map[string]string `yaml:"annotations"`
				} `yaml:"metadata"`
				Spec podSpec `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	podSpec struct {
		HostNetwork *bool       `yaml:"hostNetwork"`
		DNSPolicy   string      `yaml:"dnsPolicy"`
		Containers  []container `yaml:"containers"`
		Volumes     []struct {
			Name      string `yaml:"name"`
			ConfigMap *struct {
				Name string `yaml:"name"`
			} `yaml:"configMap"`
			EmptyDir *struct{} `yaml:"emptyDir"`
		} `yaml:"volumes"`
	}
	container struct {
		Name    string   `yaml:"name"`
		Image   string   `yaml:"image"`
		Command []string `yaml:"command"`
		Args    []string `yaml:"args"`
		Env     []struct {
			Name      string  `yaml:"name"`
			Value     *string `yaml:"value"`
			ValueFrom *struct {
				ConfigMapKeyRef *struct {
					Name string `yaml:"name"`
					Key  string `yaml:"key"`
				} `yaml:"configMapKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
			Protocol      string `yaml:"protocol"`
		} `yaml:"ports"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
		Resources      struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		SecurityContext *struct {
			Privileged               *bool `yaml:"privileged"`
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
			ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
			RunAsUser                *int  `yaml:"runAsUser"`
			Capabilities             *struct {
				Add  []string `yaml:"add"`
				Drop []string `yaml:"drop"`
			} `yaml:"capabilities"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			ReadOnly  bool   `yaml:"readOnly"`
		} `yaml:"volumeMounts"`
	}
	probe struct {
		HTTPGet *struct {
			Path string `yaml:"path"`
			Port any    `yaml:"port"`
		} `yaml:"httpGet"`
	}
)

// loadObjects decodes every YAML document of the files in the Kubernetes
// directory, strictly: a field the structs above do not know is not an
// error (they hold only what is checked), but a malformed document is.
func loadObjects(t *testing.T) map[string]*k8sObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(deployDir, "kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s/kubernetes: %v", deployDir, err)
	}
	objs := map[string]*k8sObject{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o k8sObject
			err := d.Decode(&o)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.Kind == "" || o.APIVersion == "" || o.Metadata.Name == "" {
				t.Fatalf("%s: a document without kind, apiVersion or name", f)
			}
			objs[o.Kind+"/"+o.Metadata.Name] = &o
		}
	}
	return objs
}

// expandK8s replaces $(VAR) in s as the kubelet does, from vars.
func expandK8s(t *testing.T, s string, vars map[string]string) string {
	return regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`).ReplaceAllStringFunc(s, func(m string) string {
		v, ok := vars[m[2:len(m)-1]]
		if !ok {
			t.Errorf("%s: no such variable in the container's env", m)
		}
		return v
	})
}

// parseCapture parses args (without the leading "capture") with wring's own
// command grammar and returns the capture command's flags.
func parseCapture(t *testing.T, args []string) *captureCmd {
	t.Helper()
	var c cli
	var stderr bytes.Buffer
	exited := false
	p, err := newParser(&c, nil, io.Discard, &stderr, func(int) { exited = true; panic(exitSentinel{}) })
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(exitSentinel); !ok {
					panic(r)
				}
			}
		}()
		full := append([]string{"capture"}, args...)
		kctx, err := p.Parse(permute(p.Model, full))
		if err != nil || exited {
			t.Fatalf("wring %s: %v %s", strings.Join(full, " "), err, stderr.String())
		}
		if kctx.Command() != "capture" && !strings.HasPrefix(kctx.Command(), "capture ") {
			t.Fatalf("parsed as %q", kctx.Command())
		}
	}()
	cc := &c.Capture
	if _, err := cc.parseExport(); err != nil {
		t.Errorf("--export: %v", err)
	}
	if err := checkNATSEvents(cc.Events); err != nil {
		t.Errorf("%v", err)
	}
	return cc
}

// TestDeployDaemonSet checks the fields the fleet relies on: host network,
// exactly the proven capabilities and not privileged, args that wring
// capture's own grammar accepts (passive mode, the interface from the
// ConfigMap, files the ConfigMap holds), the metrics port that the probes
// and the scrape annotation name, and a ConfigMap whose filter expression
// compiles and whose rules check.
func TestDeployDaemonSet(t *testing.T) {
	objs := loadObjects(t)
	ds, cm := objs["DaemonSet/wring"], objs["ConfigMap/wring"]
	if ds == nil || cm == nil {
		t.Fatalf("want DaemonSet/wring and ConfigMap/wring, have %v", slices.Sorted(func(yield func(string) bool) {
			for k := range objs {
				if !yield(k) {
					return
				}
			}
		}))
	}
	if ds.APIVersion != "apps/v1" || cm.APIVersion != "v1" || ds.Metadata.Namespace != cm.Metadata.Namespace {
		t.Errorf("apiVersion %s/%s, namespaces %q and %q", ds.APIVersion, cm.APIVersion, ds.Metadata.Namespace, cm.Metadata.Namespace)
	}
	for k, v := range ds.Spec.Selector.MatchLabels {
		if ds.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod's labels", k, v)
		}
	}
	pod := ds.Spec.Template.Spec
	if pod.HostNetwork == nil || !*pod.HostNetwork {
		t.Error("hostNetwork is not true: the pod would capture its own network namespace, not the node's")
	}
	if pod.DNSPolicy != "ClusterFirstWithHostNet" {
		t.Errorf("dnsPolicy %q: with hostNetwork, cluster names (the collector, NATS) resolve only with ClusterFirstWithHostNet", pod.DNSPolicy)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.Capabilities == nil {
		t.Fatal("no securityContext capabilities")
	}
	if sc.Privileged == nil || *sc.Privileged {
		t.Error("privileged is not set to false")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if sc.RunAsUser == nil || *sc.RunAsUser != 0 {
		// Kubernetes grants added capabilities to root only (no ambient
		// capabilities for other users).
		t.Error("runAsUser is not 0: added capabilities reach only root in a container")
	}
	if !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("capabilities drop %v, want [ALL]", sc.Capabilities.Drop)
	}
	if add := slices.Sorted(slices.Values(sc.Capabilities.Add)); !slices.Equal(add, slices.Sorted(slices.Values(fleetCaps))) {
		t.Errorf("capabilities add %v, want the proven set %v", sc.Capabilities.Add, fleetCaps)
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("resources: requests %v, limits %v: want cpu and memory requests and a memory limit", c.Resources.Requests, c.Resources.Limits)
	}

	// The environment, as the kubelet builds it.
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.Value != nil:
			env[e.Name] = *e.Value
		case e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			v, ok := cm.Data[ref.Key]
			if ref.Name != cm.Metadata.Name || !ok {
				t.Fatalf("env %s: ConfigMap %s has no key %q", e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
		default:
			t.Fatalf("env %s: no value", e.Name)
		}
	}
	if len(c.Command) != 0 {
		t.Errorf("command %v: the image's entry point is wring; args name the subcommand", c.Command)
	}
	if len(c.Args) == 0 || c.Args[0] != "capture" {
		t.Fatalf("args %v: want wring capture", c.Args)
	}
	var args []string
	for _, a := range c.Args[1:] {
		args = append(args, expandK8s(t, a, env))
	}
	cc := parseCapture(t, args)
	if cc.Mode != "passive" {
		t.Errorf("--mode %q: the proven capability set is passive capture's; auto would fall back to AF_PACKET (CAP_NET_RAW)", cc.Mode)
	}
	if cc.Interface != cm.Data["interface"] || cc.Interface == "" {
		t.Errorf("--interface %q, the ConfigMap says %q", cc.Interface, cm.Data["interface"])
	}

	// Files the args name are the ConfigMap's, where it is mounted.
	var mount string
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil && v.ConfigMap.Name == cm.Metadata.Name {
				mount = m.MountPath
				if !m.ReadOnly {
					t.Errorf("ConfigMap mounted writable at %s", m.MountPath)
				}
			}
		}
	}
	if mount == "" {
		t.Fatal("the ConfigMap is not mounted")
	}
	if home := env["HOME"]; home != "" {
		ok := false
		for _, m := range c.VolumeMounts {
			ok = ok || m.MountPath == home && !m.ReadOnly
		}
		if !ok {
			t.Errorf("HOME %s is not a writable volume (the compilation cache goes under it; the root file system is read-only)", home)
		}
	}
	dir := t.TempDir()
	for _, f := range []struct{ flag, path string }{{"--filter-file", cc.FilterFile}, {"--rules", cc.Rules}} {
		key, ok := strings.CutPrefix(f.path, mount+"/")
		if !ok || cm.Data[key] == "" {
			t.Errorf("%s %q is not a key of the ConfigMap mounted at %s", f.flag, f.path, mount)
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, key), []byte(cm.Data[key]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The rules check, and the expression compiles, with wring's own
	// commands.
	var out, stderr bytes.Buffer
	if code := run([]string{"rules", "check", filepath.Join(dir, filepath.Base(cc.Rules))}, nil, &out, &stderr); code != 0 {
		t.Errorf("wring rules check: exit %d\n%s", code, stderr.String())
	}
	expr := stripComments(cm.Data[filepath.Base(cc.FilterFile)])
	if code := run([]string{"compile", expr}, nil, &out, &stderr); code != 0 {
		t.Errorf("wring compile %q: exit %d\n%s", expr, code, stderr.String())
	}

	// One metrics port: the flag's, the container's, the probes' and the
	// scrape annotation's.
	_, port, err := net.SplitHostPort(cc.Metrics)
	if err != nil || port == "" || port == "0" {
		t.Fatalf("--metrics %q: want a fixed port", cc.Metrics)
	}
	if len(c.Ports) != 1 || strconv.Itoa(c.Ports[0].ContainerPort) != port || c.Ports[0].Protocol != "TCP" {
		t.Errorf("container ports %+v, --metrics port %s", c.Ports, port)
	}
	for name, p := range map[string]*probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("no %s probe on the metrics endpoint", name)
			continue
		}
		pp := ""
		switch v := p.HTTPGet.Port.(type) {
		case int:
			pp = strconv.Itoa(v)
		case string:
			for _, cp := range c.Ports {
				if cp.Name == v {
					pp = strconv.Itoa(cp.ContainerPort)
				}
			}
		}
		if pp != port || p.HTTPGet.Path != "/metrics" {
			t.Errorf("%s probe GET %s on port %v; --metrics serves /metrics on %s", name, p.HTTPGet.Path, p.HTTPGet.Port, port)
		}
	}
	a := ds.Spec.Template.Metadata.Annotations
	if a["prometheus.io/port"] != port || a["prometheus.io/path"] != "/metrics" || a["prometheus.io/scrape"] != "true" {
		t.Errorf("scrape annotations %v, --metrics port %s", a, port)
	}
	// The filter leaves out the export traffic (ports of --export and
	// --events), which crosses the captured interface on the host network.
	for _, u := range []string{cc.Export, cc.Events} {
		_, p, _ := net.SplitHostPort(strings.SplitN(strings.SplitN(u, "://", 2)[1], "/", 2)[0])
		if !strings.Contains(expr, "port "+p) {
			t.Errorf("the filter %q does not leave out port %s of %s", expr, p, u)
		}
	}
}

// stripComments drops '#' comments, as --filter-file does.
func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		l, _, _ = strings.Cut(l, "#")
		b.WriteString(l)
		b.WriteByte(' ')
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// systemdUnit reads a unit file into section -> key -> values (keys may
// repeat), joining continuation lines.
func systemdUnit(t *testing.T, path string) map[string]map[string][]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := map[string]map[string][]string{}
	sec := ""
	sc := bufio.NewScanner(f)
	line := 0
	var cont string
	for sc.Scan() {
		line++
		l := strings.TrimSpace(sc.Text())
		if cont != "" {
			l = cont + " " + l
			cont = ""
		}
		if strings.HasSuffix(l, "\\") {
			cont = strings.TrimSuffix(l, "\\")
			continue
		}
		switch {
		case l == "" || l[0] == '#' || l[0] == ';':
		case l[0] == '[' && l[len(l)-1] == ']':
			sec = l[1 : len(l)-1]
			if u[sec] == nil {
				u[sec] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok || sec == "" {
				t.Fatalf("%s:%d: not a key=value in a section: %q", path, line, l)
			}
			u[sec][strings.TrimSpace(k)] = append(u[sec][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

// TestDeploySystemdUnit checks the unit: ExecStart is a wring capture that
// wring's grammar accepts (passive, the same analyzers and exports as the
// DaemonSet), the process gets exactly the proven capabilities (ambient,
// bounded), nothing turns off what capture needs, and systemd-analyze
// verify, where installed, has nothing to say about it.
func TestDeploySystemdUnit(t *testing.T) {
	path := filepath.Join(deployDir, "systemd", "wring.service")
	u := systemdUnit(t, path)
	s := u["Service"]
	if s == nil || u["Unit"] == nil || u["Install"] == nil {
		t.Fatalf("sections %v: want Unit, Service, Install", u)
	}
	want := make([]string, len(fleetCaps))
	for i, c := range fleetCaps {
		want[i] = "CAP_" + c
	}
	slices.Sort(want)
	for _, k := range []string{"AmbientCapabilities", "CapabilityBoundingSet"} {
		if len(s[k]) != 1 || !slices.Equal(slices.Sorted(slices.Values(strings.Fields(s[k][0]))), want) {
			t.Errorf("%s %v, want exactly %v", k, s[k], want)
		}
	}
	for k, v := range map[string]string{"NoNewPrivileges": "yes", "DynamicUser": "yes", "PrivateNetwork": "", "MemoryDenyWriteExecute": "no"} {
		// PrivateNetwork would hide the interface; MemoryDenyWriteExecute
		// would stop wazero's compiler and the filter JIT from mapping
		// code.
		got := ""
		if len(s[k]) > 0 {
			got = s[k][len(s[k])-1]
		}
		if got != v {
			t.Errorf("%s=%q, want %q", k, got, v)
		}
	}
	if af := strings.Join(s["RestrictAddressFamilies"], " "); !strings.Contains(af, "AF_NETLINK") || !strings.Contains(af, "AF_INET") {
		t.Errorf("RestrictAddressFamilies %q: capture needs AF_NETLINK, export AF_INET", af)
	}
	if sf := strings.Join(s["SystemCallFilter"], " "); sf != "" && !slices.Contains(strings.Fields(sf), "bpf") {
		t.Errorf("SystemCallFilter %q does not allow bpf", sf)
	}
	if len(s["ExecStart"]) != 1 {
		t.Fatalf("ExecStart %v", s["ExecStart"])
	}
	env := map[string]string{"WRING_INTERFACE": "eth0"}
	argv := strings.Fields(regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`).ReplaceAllStringFunc(s["ExecStart"][0], func(m string) string {
		v, ok := env[m[2:len(m)-1]]
		if !ok {
			t.Errorf("%s: not set by the test's EnvironmentFile stand-in", m)
		}
		return v
	}))
	if len(argv) < 2 || filepath.Base(argv[0]) != "wring" || argv[1] != "capture" {
		t.Fatalf("ExecStart %v: want wring capture", argv)
	}
	cc := parseCapture(t, argv[2:])
	if cc.Mode != "passive" || cc.Interface != "eth0" {
		t.Errorf("--mode %q --interface %q", cc.Mode, cc.Interface)
	}
	objs := loadObjects(t)
	if ds := objs["DaemonSet/wring"]; ds != nil && len(ds.Spec.Template.Spec.Containers) == 1 {
		dsa := parseCapture(t, ds.Spec.Template.Spec.Containers[0].Args[1:])
		if !slices.Equal(dsa.Analyzer, cc.Analyzer) || dsa.FilterFile != cc.FilterFile || dsa.Rules != cc.Rules {
			t.Errorf("the unit runs %v -F %s --rules %s, the DaemonSet %v -F %s --rules %s", cc.Analyzer, cc.FilterFile, cc.Rules, dsa.Analyzer, dsa.FilterFile, dsa.Rules)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze is not installed: the unit was parsed only")
		return
	}
	// verify wants the executable to exist: point ExecStart at this test
	// binary, in a copy.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "wring.service")
	if err := os.WriteFile(cp, bytes.ReplaceAll(b, []byte(argv[0]), []byte(exe)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", cp).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
