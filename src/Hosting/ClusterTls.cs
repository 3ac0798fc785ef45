using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Orleans.Connections.Security;

namespace RoomActors.Hosting;

/// <summary>
/// <see cref="ClusterTlsOptions"/> checked and loaded at start (certificate, trust), and applied to Orleans' TLS options:
/// this process's certificate, whether peers must present one, and a peer check against the trusted certificates only.
/// </summary>
internal sealed class ClusterTls
{
    private const string Key = ClusterTlsOptions.Section + ":";
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private ClusterTls(ClusterTlsOptions options, X509Certificate2? certificate, X509Certificate2Collection trusted)
    {
        Options = options;
        Certificate = certificate;
        Trusted = trusted;
    }

    public ClusterTlsOptions Options { get; }

    /// <summary>This process's certificate; null on a gateway without one.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>What a peer's certificate must be or chain to.</summary>
    public X509Certificate2Collection Trusted { get; }

    /// <summary>
    /// The TLS settings of <paramref name="configuration"/>, checked and loaded; null when TLS is off. Throws
    /// <see cref="OptionsValidationException"/> naming every bad setting.
    /// </summary>
    /// <param name="configuration">The process's configuration.</param>
    /// <param name="silo">True for a silo (it needs a certificate), false for a gateway (an Orleans client).</param>
    public static ClusterTls? Read(IConfiguration configuration, bool silo)
    {
        var options = configuration.GetSection(ClusterTlsOptions.Section).Get<ClusterTlsOptions>() ?? new ClusterTlsOptions();
        var failures = Validate(options, silo);
        if (failures.Count == 0 && options.Enabled)
        {
            var tls = Load(options, silo, failures);
            if (failures.Count == 0)
            {
                return tls;
            }
        }

        return failures.Count == 0 ? null : throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(ClusterTlsOptions), failures);
    }

    /// <summary>The settings' own consistency, before any file is read.</summary>
    public static List<string> Validate(ClusterTlsOptions options, bool silo)
    {
        var failures = new List<string>();
        if (!options.Enabled)
        {
            if (!string.IsNullOrWhiteSpace(options.CertificatePath) || !string.IsNullOrWhiteSpace(options.TrustedCertificatePath))
            {
                failures.Add($"{Key}{nameof(ClusterTlsOptions.CertificatePath)} or {nameof(ClusterTlsOptions.TrustedCertificatePath)} is set but "
                    + $"{Key}{nameof(ClusterTlsOptions.Enabled)} is false, so the Orleans connections would be plaintext; set Enabled to true on "
                    + "every silo and gateway, or remove the paths.");
            }

            return failures;
        }

        var hasCertificate = !string.IsNullOrWhiteSpace(options.CertificatePath);
        if (silo && !hasCertificate)
        {
            failures.Add($"{Key}{nameof(ClusterTlsOptions.CertificatePath)} is empty; a silo with TLS needs its certificate and key "
                + "(a .pfx/.p12 file, or a PEM certificate with its key), or set Enabled to false on every process.");
        }
        else if (!silo && !hasCertificate && options.RequirePeerCertificate)
        {
            failures.Add($"{Key}{nameof(ClusterTlsOptions.CertificatePath)} is empty, but silos require a certificate from gateways "
                + $"({Key}{nameof(ClusterTlsOptions.RequirePeerCertificate)} is true); give this gateway a trusted certificate, or set "
                + "RequirePeerCertificate to false on every process.");
        }
        else if (!hasCertificate && string.IsNullOrWhiteSpace(options.TrustedCertificatePath))
        {
            failures.Add($"{Key}{nameof(ClusterTlsOptions.TrustedCertificatePath)} is empty and this gateway has no certificate of its own, "
                + "so nothing says which silo certificates to trust; set it to the silos' certificate or their CA (PEM).");
        }

        if (!string.IsNullOrWhiteSpace(options.KeyPath) && IsPkcs12(options.CertificatePath))
        {
            failures.Add($"{Key}{nameof(ClusterTlsOptions.KeyPath)} is set, but {nameof(ClusterTlsOptions.CertificatePath)} is a PKCS#12 file, "
                + "which holds its key; remove KeyPath.");
        }

        if (options.HandshakeTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Key}{nameof(ClusterTlsOptions.HandshakeTimeout)} ({options.HandshakeTimeout}) must be positive; e.g. 00:00:10 (the default).");
        }

        return failures;
    }

    private static ClusterTls? Load(ClusterTlsOptions options, bool silo, List<string> failures)
    {
        X509Certificate2? certificate = null;
        if (!string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            certificate = LoadCertificate(options, failures);
            if (certificate is not null)
            {
                CheckUsage(certificate, silo, failures);
            }
        }

        var trusted = new X509Certificate2Collection();
        if (!string.IsNullOrWhiteSpace(options.TrustedCertificatePath))
        {
            LoadTrusted(options.TrustedCertificatePath, trusted, failures);
        }
        else if (certificate is not null)
        {
            trusted.Add(X509CertificateLoader.LoadCertificate(certificate.RawData)); // the public part only
        }

        return failures.Count == 0 ? new ClusterTls(options, certificate, trusted) : null;
    }

    private static X509Certificate2? LoadCertificate(ClusterTlsOptions options, List<string> failures)
    {
        var path = options.CertificatePath!;
        try
        {
            var certificate = IsPkcs12(path)
                ? X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword)
                : string.IsNullOrEmpty(options.CertificatePassword)
                    ? X509Certificate2.CreateFromPemFile(path, options.KeyPath)
                    : X509Certificate2.CreateFromEncryptedPemFile(path, options.CertificatePassword, options.KeyPath);
            if (!certificate.HasPrivateKey)
            {
                failures.Add($"{Key}{nameof(ClusterTlsOptions.CertificatePath)} ('{path}') has no private key; give a .pfx/.p12 file with "
                    + $"its key, or the PEM key in the same file or in {Key}{nameof(ClusterTlsOptions.KeyPath)}.");
                return null;
            }

            return certificate;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            // Report with the others: the setting is wrong (a missing file, a wrong password, not a certificate), not the process.
            failures.Add($"{Key}{nameof(ClusterTlsOptions.CertificatePath)} ('{path}') could not be loaded: {ex.Message} Check the path, "
                + $"the format (.pfx/.p12, else PEM with the key in the file or in {nameof(ClusterTlsOptions.KeyPath)}) and "
                + $"{Key}{nameof(ClusterTlsOptions.CertificatePassword)}.");
            return null;
        }
    }

    private static void LoadTrusted(string path, X509Certificate2Collection trusted, List<string> failures)
    {
        try
        {
            if (File.ReadAllText(path).Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                trusted.ImportFromPemFile(path);
            }
            else
            {
                trusted.Add(X509CertificateLoader.LoadCertificateFromFile(path));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            // Report with the others: the setting is wrong, not the process.
            failures.Add($"{Key}{nameof(ClusterTlsOptions.TrustedCertificatePath)} ('{path}') could not be loaded: {ex.Message} Give a PEM "
                + "file of one or more certificates (or one DER certificate).");
        }
    }

    /// <summary>Orleans refuses a certificate whose Extended Key Usage lacks what it is used for; say so at start, naming the setting.</summary>
    private static void CheckUsage(X509Certificate2 certificate, bool silo, List<string> failures)
    {
        if (certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault() is not { } usage)
        {
            return;
        }

        var oids = usage.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToHashSet();
        string[] needed = silo ? [ServerAuthOid, ClientAuthOid] : [ClientAuthOid];
        if (!needed.All(oids.Contains))
        {
            failures.Add($"{Key}{nameof(ClusterTlsOptions.CertificatePath)}: the certificate's Extended Key Usage does not allow "
                + (silo ? "both server and client authentication, which a silo needs (it accepts and opens connections)" : "client authentication, which a gateway needs")
                + "; issue one with serverAuth and clientAuth, or without the extension.");
        }
    }

    private static bool IsPkcs12(string? path) =>
        path is not null && (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase));

    /// <summary>Orleans' TLS options for this process.</summary>
    /// <param name="options">Orleans' options to fill.</param>
    /// <param name="silo">True for a silo: <see cref="ClusterTlsOptions.RequirePeerCertificate"/> applies to who connects to it.</param>
    public void Configure(TlsOptions options, bool silo)
    {
        options.LocalCertificate = Certificate;
        // A silo's mode is about who connects to it (and, connecting out, about the other silo, which always has one);
        // a gateway always requires the silo's certificate.
        options.RemoteCertificateMode = !silo || Options.RequirePeerCertificate ? RemoteCertificateMode.RequireCertificate : RemoteCertificateMode.AllowCertificate;
        options.ClientCertificateMode = Certificate is null ? RemoteCertificateMode.NoCertificate : RemoteCertificateMode.AllowCertificate;
        options.RemoteCertificateValidation = IsTrusted;
        options.HandshakeTimeout = Options.HandshakeTimeout;
    }

    /// <summary>
    /// A peer's certificate is trusted when it is one of <see cref="Trusted"/> and in its validity period, or chains to one
    /// of them. The system's trust store and host names play no part: trust is the configured list.
    /// </summary>
    public bool IsTrusted(X509Certificate2 certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        var now = DateTime.Now;
        if (Trusted.Any(t => t.RawData.AsSpan().SequenceEqual(certificate.RawData)) && certificate.NotBefore <= now && now <= certificate.NotAfter)
        {
            return true;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            // The intermediates the peer sent.
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(certificate);
    }
}
