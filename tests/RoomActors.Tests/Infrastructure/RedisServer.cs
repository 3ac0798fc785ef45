using System.Diagnostics;
using System.Net.Sockets;

namespace RoomActors.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port in a temp directory (append-only file on, so a restart keeps
/// the data), stopped by process id.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private Process? _process;

    private RedisServer(int port, string directory)
    {
        Port = port;
        Directory = directory;
    }

    public int Port { get; }

    public string Directory { get; }

    /// <summary>The redis-server process id; null before it started.</summary>
    public int? Pid => _process?.Id;

    /// <summary>True once the redis-server process has exited.</summary>
    public bool HasExited => _process?.HasExited ?? false;

    /// <summary><c>host:port</c>, as <c>--redis</c> takes it.</summary>
    public string Address => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "roomactors-redis-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(directory);
        var server = new RedisServer(FreePort.Next(), directory);
        await server.StartProcessAsync();
        return server;
    }

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", Directory, "--save", "", "--appendonly", "yes", "--appendfsync", "always" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            _process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("redis-server is not installed; run ./test.sh (it installs it) or apt-get install redis-server.", ex);
        }

        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(20) && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Runs <c>redis-cli</c> against this server with <paramref name="args"/> (installed with redis-server); returns its output.</summary>
    public async Task<string> CommandAsync(params string[] args)
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["-h", "127.0.0.1", "-p", Port.ToString(), .. args])
        {
            start.ArgumentList.Add(arg);
        }

        using var cli = Process.Start(start)!;
        var output = cli.StandardOutput.ReadToEndAsync();
        await cli.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return await output;
    }

    /// <summary>Freezes redis-server (SIGSTOP): connections stay open, nothing is answered until <see cref="ResumeAsync"/>.</summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>Lets a frozen redis-server go on (SIGCONT): it then runs what it received meanwhile.</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process!.Id.ToString()]);
        await kill.WaitForExitAsync();
    }

    /// <summary>Kills redis-server (SIGKILL).</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Kills and starts it again on the same port and directory.</summary>
    public async Task RestartAsync()
    {
        await KillAsync();
        await StartProcessAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            await ResumeAsync(); // a frozen process ignores nothing but SIGKILL; resumed, it exits like any other
        }

        await KillAsync();
        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Leave it: a temp directory left behind is harmless.
        }
    }
}
