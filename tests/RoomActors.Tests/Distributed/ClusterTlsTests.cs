using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RoomActors.Hosting;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Distributed;

/// <summary>
/// TLS between the processes of a cluster (<c>RoomActors:Tls</c>, issue 13): silos and gateways with one self-signed
/// cluster certificate serve rooms; a plaintext gateway, a gateway with a certificate nobody trusts and a plaintext silo
/// are kept out.
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class ClusterTlsTests
{
    private const string Password = "test-only-password";

    [Fact]
    public async Task A_TLS_cluster_serves_rooms_and_keeps_plaintext_and_untrusted_peers_out()
    {
        using var files = new CertificateFiles();
        var cluster = files.Pfx("cluster");
        string[] tls = ["--RoomActors:Tls:Enabled=true", $"--RoomActors:Tls:CertificatePath={cluster}", $"--RoomActors:Tls:CertificatePassword={Password}"];

        await using var processes = await ProcessCluster.StartAsync();
        var silo1 = await processes.StartSiloAsync("tls-silo-1", http: false, tls);
        var silo2 = await processes.StartSiloAsync("tls-silo-2", http: false, tls); // joins only if it can reach silo 1 over TLS
        var gateway = await processes.StartGatewayAsync("tls-gateway", tls);

        // End to end through the TLS gateway, on rooms placed on either silo.
        for (var i = 0; i < 4; i++)
        {
            await using var counter = await TestClient.ConnectAsync(gateway.Room("counter", $"tls-{i}"));
            await counter.SendAsync("inc");
            Assert.Equal("1", await counter.ReceiveTextAsync());
            await counter.CloseAsync();
        }

        // Kept out, at the same time (each a bounded wait): a plaintext gateway and a gateway whose certificate is not the
        // cluster's never connect; a plaintext silo cannot join.
        var common = new[] { "--redis", processes.Redis.Address, "--cluster-id", processes.ClusterId, "--service-id", processes.ClusterId };
        var plaintextGateway = NeverConnectsAsync([.. common]);
        var untrustedGateway = NeverConnectsAsync([.. common, "--RoomActors:Tls:Enabled=true",
            $"--RoomActors:Tls:CertificatePath={files.Pfx("stranger")}", $"--RoomActors:Tls:CertificatePassword={Password}"]);
        await using var plaintextSilo = await NodeProcess.LaunchAsync("Silo", "plaintext-silo",
            [.. common, "--silo-port", FreePort.Next().ToString(), "--client-port", FreePort.Next().ToString()]);

        // Orleans' join check: a new silo must reach every active silo first; over plaintext it reaches none.
        Assert.True(await plaintextSilo.WaitForLogAsync(l => l.Contains("Failed to get ping responses from 2 of 2 active silos", StringComparison.Ordinal), TimeSpan.FromSeconds(30)),
            $"a plaintext silo did not fail its join check against a TLS cluster. Log:\n{plaintextSilo.Log}");
        Assert.DoesNotContain("Application started", plaintextSilo.Log);
        await plaintextSilo.KillAsync();
        Assert.True(await plaintextGateway, "a plaintext gateway connected to a TLS cluster");
        Assert.True(await untrustedGateway, "a gateway with an untrusted certificate connected to a TLS cluster");

        // The silos saw the handshakes fail, and still serve.
        Assert.Contains("Authentication failed", silo1.Log + silo2.Log);
        await using var after = await TestClient.ConnectAsync(gateway.Room("echo", "tls-after"));
        await after.SendAsync("still here");
        Assert.Equal("still here", await after.ReceiveTextAsync());
        await after.CloseAsync();
    }

    [Fact]
    public void Settings_are_checked_with_messages_naming_the_key()
    {
        static string Failure(ClusterTlsOptions options, bool silo) => string.Join("\n", ClusterTls.Validate(options, silo));

        Assert.Empty(ClusterTls.Validate(new ClusterTlsOptions(), silo: true)); // off: nothing to check
        Assert.Contains("RoomActors:Tls:CertificatePath is empty; a silo with TLS needs", Failure(new() { Enabled = true }, silo: true));
        Assert.Contains("silos require a certificate from gateways", Failure(new() { Enabled = true }, silo: false));
        Assert.Contains("RoomActors:Tls:TrustedCertificatePath is empty", Failure(new() { Enabled = true, RequirePeerCertificate = false }, silo: false));
        Assert.Empty(ClusterTls.Validate(new() { Enabled = true, RequirePeerCertificate = false, TrustedCertificatePath = "ca.pem" }, silo: false));
        Assert.Contains("is set but RoomActors:Tls:Enabled is false", Failure(new() { CertificatePath = "cluster.pfx" }, silo: true));
        Assert.Contains("RoomActors:Tls:HandshakeTimeout", Failure(new() { Enabled = true, CertificatePath = "c.pfx", HandshakeTimeout = TimeSpan.Zero }, silo: true));
        Assert.Contains("RoomActors:Tls:KeyPath is set", Failure(new() { Enabled = true, CertificatePath = "c.pfx", KeyPath = "k.pem" }, silo: true));
    }

    [Fact]
    public void Certificates_are_loaded_at_start_and_a_bad_one_names_the_setting()
    {
        using var files = new CertificateFiles();
        var good = files.Pfx("cluster");
        var tls = ClusterTls.Read(Configuration(("Enabled", "true"), ("CertificatePath", good), ("CertificatePassword", Password)), silo: true);
        Assert.NotNull(tls);
        Assert.True(tls.Certificate!.HasPrivateKey);
        Assert.True(tls.IsTrusted(X509CertificateLoader.LoadCertificate(tls.Certificate.RawData), null, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(tls.IsTrusted(X509CertificateLoader.LoadPkcs12FromFile(files.Pfx("stranger"), Password), null, System.Net.Security.SslPolicyErrors.None));

        var wrongPassword = Assert.Throws<OptionsValidationException>(() =>
            ClusterTls.Read(Configuration(("Enabled", "true"), ("CertificatePath", good), ("CertificatePassword", "wrong")), silo: true));
        Assert.Contains($"RoomActors:Tls:CertificatePath ('{good}') could not be loaded", wrongPassword.Message);

        var serverOnly = files.Pfx("server-only", clientAuth: false);
        var usage = Assert.Throws<OptionsValidationException>(() =>
            ClusterTls.Read(Configuration(("Enabled", "true"), ("CertificatePath", serverOnly), ("CertificatePassword", Password)), silo: true));
        Assert.Contains("Extended Key Usage does not allow both server and client authentication", usage.Message);

        Assert.Null(ClusterTls.Read(Configuration(), silo: true));
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create($"{ClusterTlsOptions.Section}:{s.Key}", (string?)s.Value)))
            .Build();

    /// <summary>True when a gateway with <paramref name="args"/> has not connected to the cluster within 15 s.</summary>
    private static async Task<bool> NeverConnectsAsync(string[] args)
    {
        var app = RoomActorsHost.BuildGateway(["--urls", "http://127.0.0.1:0", .. args], builder => builder.Logging.ClearProviders());
        await using (app)
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await app.StartAsync(wait.Token); // the Orleans client retries until it connects, or until cancelled
            }
            catch (OperationCanceledException)
            {
                // Expected: it never connected. Nothing started, so nothing to stop.
                return true;
            }

            await app.StopAsync();
            return false;
        }
    }

    /// <summary>Self-signed certificates (PKCS#12, with keys) in a temporary directory, deleted on dispose.</summary>
    private sealed class CertificateFiles : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("roomactors-tls-").FullName;

        public string Pfx(string name, bool clientAuth = true)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN=roomactors-{name}", key, HashAlgorithmName.SHA256);
            var usages = new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }; // server authentication
            if (clientAuth)
            {
                usages.Add(new Oid("1.3.6.1.5.5.7.3.2")); // client authentication
            }

            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, critical: false));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: false));
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            var path = Path.Combine(_directory, name + ".pfx");
            File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, Password));
            return path;
        }

        public void Dispose() => Directory.Delete(_directory, recursive: true);
    }
}
