namespace RoomActors.Hosting;

/// <summary>
/// TLS between the processes of a cluster: silo to silo (<c>--silo-port</c>) and gateway to silo (<c>--client-port</c>),
/// through Orleans' TLS (Microsoft.Orleans.Connections.Security). Configuration section <c>RoomActors:Tls</c>; every
/// process of one cluster needs the same <see cref="Enabled"/>. Checked at start: a missing file, a wrong password or a
/// certificate unfit for TLS stops the process with a message naming the setting. It does not cover the WebSocket/HTTP
/// side (Kestrel's own <c>https</c> endpoints do) nor Redis.
/// </summary>
public sealed class ClusterTlsOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RoomActors:Tls";

    /// <summary>
    /// Whether the Orleans connections use TLS. Default false. A process with TLS and one without cannot talk: the
    /// handshake fails and the connection is closed, so turn it on for every silo and gateway at once.
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// This process's certificate with its private key: a PKCS#12 file (<c>.pfx</c>, <c>.p12</c>), or a PEM certificate
    /// (any other name) whose key is in the same file or in <see cref="KeyPath"/>. Required on silos; on gateways unless
    /// <see cref="RequirePeerCertificate"/> is false. If it has an Extended Key Usage extension, it must allow server
    /// authentication (silos) and client authentication (silos, which also connect out, and gateways).
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>
    /// The password of <see cref="CertificatePath"/> (PKCS#12) or of an encrypted PEM key. Default none. A secret: set it
    /// through the environment (<c>RoomActors__Tls__CertificatePassword</c>).
    /// </summary>
    public string? CertificatePassword { get; set; }

    /// <summary>The PEM private key of a PEM <see cref="CertificatePath"/>, when it is not in the same file. Default none.</summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// The certificates (PEM, one or more; or one DER file) a peer's certificate must be, or chain to: a cluster's own CA,
    /// or a self-signed certificate shared by every process. Host names are not checked (silos advertise IP addresses):
    /// trust is this list. Default: this process's own certificate, so processes sharing one certificate trust each
    /// other and nothing else.
    /// </summary>
    public string? TrustedCertificatePath { get; set; }

    /// <summary>
    /// Whether a silo requires whoever connects to it (silos and gateways) to present a trusted certificate: mutual TLS,
    /// so that only holders of a trusted certificate can join the cluster or call rooms. Default true. False: gateways may
    /// connect without a certificate (traffic is still encrypted and they still check the silo's certificate), and anyone
    /// who reaches the ports can too.
    /// </summary>
    public bool RequirePeerCertificate { get; set; } = true;

    /// <summary>How long a TLS handshake may take before the connection is closed. Default 10 seconds.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
