using System.Collections.Concurrent;
using System.Diagnostics;

namespace RoomActors.Tests.Infrastructure;

/// <summary>
/// A real silo, gateway or app process started from the build output (<c>dotnet RoomActors.Silo.dll …</c>), stopped
/// by process id: SIGTERM for a graceful stop, SIGKILL for a crash.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NodeProcess(string name, Process process, Uri? http, Func<string, Task<NodeProcess>> startAgain)
    {
        Name = name;
        _process = process;
        Http = http;
        WebSocket = http is null ? null : new UriBuilder(http) { Scheme = "ws" }.Uri;
        _startAgain = startAgain;
    }

    private readonly Func<string, Task<NodeProcess>> _startAgain;

    public string Name { get; }

    public int Pid => _process.Id;

    public Uri? Http { get; }

    public Uri? WebSocket { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>For a silo: its silo-to-silo port (part of its Orleans silo address).</summary>
    public int? SiloPort { get; init; }

    public int ExitCode => _process.ExitCode;

    public string Log => string.Join('\n', _log);

    public Uri Room(string type, string name, string query = "") =>
        new(WebSocket ?? throw new InvalidOperationException($"{Name} serves no WebSockets"), $"/rooms/{type}/{name}{query}");

    /// <summary>
    /// True when <c>env --default-signal</c> works here (coreutils 8.31 or later): processes start with SIGINT at its
    /// default action. A test run started in the background of a non-interactive shell (<c>./test.sh &amp;</c>) inherits
    /// SIGINT ignored, and so would every process started from it: Ctrl-C (SIGINT) would then do nothing.
    /// </summary>
    private static readonly bool DefaultSignals = EnvResetsSignals();

    private static bool EnvResetsSignals()
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo("env", ["--default-signal=INT", "true"]) { RedirectStandardError = true })!;
            probe.WaitForExit(10_000);
            return probe.HasExited && probe.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no env on the path: start dotnet directly
        }
    }

    /// <summary>
    /// Starts the built <paramref name="project"/> (see <see cref="BuildOutput.Dll"/>) with <paramref name="args"/> and
    /// waits until it says it started.
    /// </summary>
    public static async Task<NodeProcess> StartAsync(string project, string name, Uri? http, params string[] args)
        => await StartAsync(project, name, http, siloPort: null, args);

    public static Task<NodeProcess> StartAsync(string project, string name, Uri? http, int? siloPort, params string[] args)
        => StartAsync(project, name, http, siloPort, descriptorLimit: null, args);

    /// <summary>
    /// As above; with <paramref name="descriptorLimit"/>, the process runs under that limit of open files (soft and hard,
    /// through <c>prlimit</c>, which keeps the process id).
    /// </summary>
    public static Task<NodeProcess> StartAsync(string project, string name, Uri? http, int? siloPort, int? descriptorLimit, params string[] args)
        => LaunchAsync(project, name, http, siloPort, descriptorLimit, TimeSpan.FromSeconds(60), args);

    /// <summary>
    /// Starts <paramref name="project"/> without waiting for it to say it started: for a process expected not to start
    /// (see <see cref="WaitForLogAsync"/>).
    /// </summary>
    public static Task<NodeProcess> LaunchAsync(string project, string name, params string[] args)
        => LaunchAsync(project, name, http: null, siloPort: null, descriptorLimit: null, startTimeout: null, args);

    /// <summary>True once a line of the log matches <paramref name="match"/>; false if none did within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForLogAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (!_log.Any(match))
        {
            if (DateTime.UtcNow >= until)
            {
                return false;
            }

            await Task.Delay(200);
        }

        return true;
    }

    private static async Task<NodeProcess> LaunchAsync(string project, string name, Uri? http, int? siloPort, int? descriptorLimit, TimeSpan? startTimeout, string[] args)
    {
        var dll = BuildOutput.Dll(project);
        // Wrappers that exec the next program (the process id stays): the descriptor limit, then SIGINT's default action.
        List<string> command = [];
        if (descriptorLimit is { } limit)
        {
            command.AddRange(["prlimit", $"--nofile={limit}:{limit}"]);
        }

        if (DefaultSignals)
        {
            command.AddRange(["env", "--default-signal=INT"]);
        }

        command.Add("dotnet");
        var start = new ProcessStartInfo(command[0])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var part in command.Skip(1))
        {
            start.ArgumentList.Add(part);
        }

        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        if (http is not null)
        {
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add(http.ToString());
        }

        if (!args.Any(a => a.StartsWith("--Logging:", StringComparison.Ordinal))) // a caller's logging settings replace these
        {
            start.ArgumentList.Add("--Logging:LogLevel:Default=Warning");
            start.ArgumentList.Add("--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information");
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";

        var node = new NodeProcess(name, Process.Start(start)!, http, again => StartAsync(project, again, http, siloPort, descriptorLimit, args)) { SiloPort = siloPort };
        node._process.OutputDataReceived += (_, e) => node.OnLine(e.Data);
        node._process.ErrorDataReceived += (_, e) => node.OnLine(e.Data);
        node._process.BeginOutputReadLine();
        node._process.BeginErrorReadLine();
        if (startTimeout is not { } wait)
        {
            return node;
        }

        var exited = node._process.WaitForExitAsync();
        var started = await Task.WhenAny(node._started.Task, exited, Task.Delay(wait));
        if (started != node._started.Task)
        {
            var why = exited.IsCompleted ? $"exited with {node._process.ExitCode}" : $"did not start within {wait.TotalSeconds:0} s";
            await node.DisposeAsync();
            throw new InvalidOperationException($"{name} {why}. Log:\n{node.Log}");
        }

        return node;
    }

    /// <summary>
    /// The same program with the same arguments and ports (a fixed address, as a restarted pod or service keeps), as a
    /// new process named <paramref name="name"/>; this one must have exited.
    /// </summary>
    public Task<NodeProcess> StartAgainAsync(string name) =>
        _process.HasExited ? _startAgain(name) : throw new InvalidOperationException($"{Name} is still running (pid {Pid}): stop it first.");

    /// <summary>The process's resident set size now (VmRSS from /proc), in bytes; null once it has exited.</summary>
    public long? ResidentBytes() => _process.HasExited ? null : ResidentBytesOf(Pid);

    /// <summary>The resident set size of process <paramref name="pid"/> (VmRSS in /proc/PID/status), in bytes; null when it is gone.</summary>
    public static long? ResidentBytesOf(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024; // "VmRSS:  123456 kB"
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // the process is gone (or this is not Linux): nothing to report
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
        while (_log.Count > 2000)
        {
            _log.TryDequeue(out _);
        }

        if (line.Contains("Application started", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }

    /// <summary>A crash: SIGKILL, no chance to clean up.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>A graceful stop: SIGTERM (or SIGINT, as Ctrl-C), then wait for the exit.</summary>
    public async Task<int> StopAsync(string signal = "TERM", TimeSpan? timeout = null)
    {
        if (_process.HasExited)
        {
            return _process.ExitCode;
        }

        using (var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }

        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            await KillAsync();
            throw new TimeoutException($"{Name} did not exit within {timeout ?? TimeSpan.FromSeconds(60)} of SIG{signal}. Log:\n{Log}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}

/// <summary>Where the built hosts are: the same configuration (Debug/Release) as these tests.</summary>
public static class BuildOutput
{
    /// <summary>
    /// The main assembly of <paramref name="project"/>: a folder of src/ (<c>Silo</c>, <c>GatewayHost</c>) or a path
    /// from the repository root (<c>samples/HelloApp</c>), holding one project file named like its assembly.
    /// </summary>
    public static string Dll(string project)
    {
        var folder = Path.Combine(Docs.ReadmeTests.RepositoryRoot(), project.Contains('/') ? project : Path.Combine("src", project));
        var assembly = Path.GetFileNameWithoutExtension(System.IO.Directory.GetFiles(folder, "*.csproj").Single());
        return Path.Combine(Directory(folder), assembly + ".dll");
    }

    private static string Directory(string projectFolder)
    {
        var testOutput = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var framework = Path.GetFileName(testOutput);
        var configuration = Path.GetFileName(Path.GetDirectoryName(testOutput)!);
        var directory = Path.Combine(projectFolder, "bin", configuration, framework);
        return System.IO.Directory.Exists(directory)
            ? directory
            : throw new InvalidOperationException($"{directory} does not exist: build the solution first (./test.sh does).");
    }
}
